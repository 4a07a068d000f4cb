// The commands a mail admin runs against queued Postfix mail, every argument quoted for sh.
//  - By owner (the queue file reader, queue_scanner.h, knows each message's SASL user or local
//    submitter): the owner's queue ids are fed to postsuper on stdin, which it reads when the
//    id argument is `-` (postsuper(1)): -h puts messages on hold (Postfix's freeze: no
//    delivery, nothing lost), -H releases them, -d deletes them; postcat -q shows one first.
//  - By envelope sender (postqueue -j has no SASL user): postqueue -j piped through jq selects
//    the ids.
#pragma once

#include <string>
#include <vector>

#include "mta/actions.h"

namespace mailrelay::postfix {

struct OwnerQueue {
  std::string owner;                   // SASL login or local user, as the report shows it
  std::vector<std::string> queue_ids;  // the owner's messages in the scanned queue
  std::string config_directory;        // passed as `-c DIR` to postsuper/postcat; "" = default
};

// Ids that are not Postfix queue ids (IsPostfixQueueId of log_parser.h) are left out (and said
// in the note); the others are listed once each, sorted. No commands when none is left.
ActionPlan OwnerActions(const OwnerQueue& queue);

// The owner's queue ids when the request has them (the queue file reader ran), else by the
// request's envelope sender.
ActionPlan SuggestActions(const ActionRequest& request, const std::string& config_directory);

}  // namespace mailrelay::postfix
