// The Exim module: Exim's main and reject logs (cPanel, DirectAdmin, Debian, Fedora layouts),
// its queue from the spool's -H files or `exim -bp`, and the exipick/exiqgrep/exim commands
// that act on one account's queued mail.
#pragma once

#include <memory>

#include "mta/mta_module.h"

namespace mailrelay {

std::unique_ptr<MtaModule> MakeEximModule();

}  // namespace mailrelay
