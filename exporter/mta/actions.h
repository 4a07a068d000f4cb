// What an MTA module suggests doing about one account's queued mail: shell command lines for
// an admin (the report prints them) with a line saying what each does.
#pragma once

#include <string>
#include <vector>

namespace mailrelay {

// The commands an admin (or `respond`) runs against one account's queued mail.
struct ActionRequest {
  std::string identity;      // raw bytes as logged
  std::string kind;          // "auth_user", "local_user", "queue_owner" or "queue_sender"
  std::string sender;        // raw; "" when unknown
  bool queue_read = false;   // the module's queue reader read the queue: commands may name it
  std::string rootfs = "/";  // --path.rootfs: commands name the host's paths, without it
  // The identity's messages in the queue that was read, when the reader knows owners (Exim's
  // spool, Postfix's queue files); empty otherwise.
  std::vector<std::string> queue_ids;
};
struct ActionCommand {
  std::string what;
  std::string command;  // one sh command line, every argument quoted
};
struct ActionPlan {
  std::vector<ActionCommand> commands;
  std::string note;  // why no commands, or a caveat
};

}  // namespace mailrelay
