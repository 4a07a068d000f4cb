// The built-in mapping from the free text of a rejection (an MTA's or an ACL's message) to the
// fixed reason vocabulary of mailrelay_rejects_total{reason}. MTA-neutral: every MTA module's
// parser calls it on its rejection text; --rules.file rules may map texts first.
#pragma once

#include <string_view>

#include "events/event.h"

namespace mailrelay {

// Maps the free text of a rejection to the fixed reason vocabulary:
// case-insensitive substring rules, first matching category wins (docs/metrics.md). One pass
// over the text (Aho-Corasick).
RejectReason ClassifyRejectText(std::string_view text);
// The same rules applied one substring search at a time: the specification that
// ClassifyRejectText is tested against.
RejectReason ClassifyRejectTextReference(std::string_view text);

}  // namespace mailrelay
