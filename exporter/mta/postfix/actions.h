// The commands a mail admin runs against queued Postfix mail, every argument quoted for sh:
// postqueue -j piped through jq to select by envelope sender, postsuper -h - hold (Postfix's
// freeze), -H - release, -d - delete, postcat -q to look at one.
#pragma once

#include "mta/mta_module.h"

namespace mailrelay::postfix {

ActionPlan SuggestActions(const ActionRequest& request);

}  // namespace mailrelay::postfix
