#include "classify/event_sink.h"

namespace mailrelay {

void DispatchEvent(const Event& ev, RelayClassifier& classifier, EventSink& sink) {
  switch (ev.type) {
    case EventType::kNone:
      return;
    case EventType::kArrival:
      sink.OnArrival(ev, classifier.Classify(ev));
      return;
    case EventType::kDelivery:
      sink.OnDelivery(ev);
      return;
    case EventType::kCompleted:
      sink.OnCompleted(ev);
      return;
    case EventType::kFrozen:
      sink.OnFrozen(ev);
      return;
    case EventType::kReject:
      sink.OnReject(ev);
      return;
    case EventType::kAuthFailure:
      sink.OnAuthFailure(ev);
      return;
  }
}

}  // namespace mailrelay
