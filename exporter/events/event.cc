#include "events/event.h"

namespace mailrelay {

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kRelayDenied:
      return "relay_denied";
    case RejectReason::kUnrouteable:
      return "unrouteable";
    case RejectReason::kRbl:
      return "rbl";
    case RejectReason::kSenderVerify:
      return "sender_verify";
    case RejectReason::kRatelimit:
      return "ratelimit";
    case RejectReason::kSpam:
      return "spam";
    case RejectReason::kSyntax:
      return "syntax";
    case RejectReason::kOther:
      return "other";
  }
  return "other";
}

}  // namespace mailrelay
