#include "pipeline/line_processor.h"

namespace mailrelay {

LineProcessor::LineProcessor(std::unique_ptr<LineDecoder> decoder, RelayClassifier& classifier,
                             EventSink* sink)
    : decoder_(std::move(decoder)) {
  if (sink != nullptr) {
    emit_ = [&classifier, sink](const Event& ev) { DispatchEvent(ev, classifier, *sink); };
  } else {
    emit_ = [](const Event&) {};
  }
}

}  // namespace mailrelay
