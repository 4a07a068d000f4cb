// The Postfix module: Postfix's syslog file or the systemd journal (lines joined by queue id in
// the correlator), its queue from `postqueue -j`, and the postqueue/postsuper commands that act
// on queued mail.
#pragma once

#include <memory>

#include "mta/mta_module.h"

namespace mailrelay {

std::unique_ptr<MtaModule> MakePostfixModule();

}  // namespace mailrelay
