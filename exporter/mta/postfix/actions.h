// The commands a mail admin runs against one owner's queued Postfix mail, found by the queue
// file reader (queue_scanner.h): the owner's queue ids are fed to postsuper on stdin, which it
// reads when the id argument is `-` (postsuper(1)): -h puts messages on hold (Postfix's
// freeze: no delivery, nothing lost), -H releases them, -d deletes them. Every argument is
// quoted for sh (report/actions.h ShellQuote); postcat -q shows one message first.
#pragma once

#include <string>
#include <vector>

#include "report/report_data.h"

namespace mailrelay::report {

struct PostfixOwnerQueue {
  std::string owner;                   // SASL login or local user, as the report shows it
  std::vector<std::string> queue_ids;  // the owner's messages in the scanned queue
  std::string config_directory;        // passed as `-c DIR` to postsuper/postcat; "" = default
};

struct PostfixOwnerActions {
  std::vector<ActionCommand> commands;  // empty when there is no usable queue id
  std::string note;                     // a caveat, or why there are no commands
};

// Ids that are not Postfix queue ids (IsPostfixQueueId of log_parser.h) are left out (and said in
// the note); the others are listed once each, sorted.
PostfixOwnerActions MakePostfixOwnerActions(const PostfixOwnerQueue& queue);

}  // namespace mailrelay::report
