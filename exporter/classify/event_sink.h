// EventSink: what consumes classified events. The metrics layer (MailMetrics) and the report
// (ReportAggregator) implement it; DispatchEvent is the one place where an Event's type decides
// which call it becomes, and where arrivals are classified.
#pragma once

#include "classify/relay_classifier.h"
#include "events/event.h"

namespace mailrelay {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // An accepted message with its relay class (or the reason it is not relaying).
  virtual void OnArrival(const Event& ev, const Classification& c) = 0;
  // One recipient delivered, deferred (also Exim's retry-time-not-reached) or failed.
  virtual void OnDelivery(const Event& ev) = 0;
  virtual void OnCompleted(const Event& ev) = 0;
  virtual void OnFrozen(const Event& ev) = 0;
  virtual void OnReject(const Event& ev) = 0;
  virtual void OnAuthFailure(const Event& ev) = 0;
};

// Classifies arrivals and hands every event to the sink (kNone is dropped).
void DispatchEvent(const Event& ev, RelayClassifier& classifier, EventSink& sink);

}  // namespace mailrelay
