#include "pipeline/line_processor.h"

namespace mailrelay {

LineProcessor::LineProcessor(std::unique_ptr<LineDecoder> decoder, RelayClassifier& classifier,
                             EventSink* sink, LineRules* rules)
    : decoder_(std::move(decoder)), rules_(rules) {
  if (sink == nullptr) {
    emit_ = [](const Event&) {};
  } else if (rules == nullptr) {
    emit_ = [&classifier, sink](const Event& ev) { DispatchEvent(ev, classifier, *sink); };
  } else {
    emit_ = [&classifier, sink, rules](const Event& ev) {
      if (ev.type == EventType::kReject) {
        if (std::optional<RejectReason> reason = rules->MapReject(ev.reject_text)) {
          Event mapped = ev;
          mapped.reject_reason = *reason;
          DispatchEvent(mapped, classifier, *sink);
          return;
        }
      }
      DispatchEvent(ev, classifier, *sink);
    };
  }
}

}  // namespace mailrelay
