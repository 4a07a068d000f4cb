// What an MTA module suggests doing about one account's queued mail: shell command lines for
// an admin (the report prints them) with a line saying what each does; and what `respond`
// runs itself (argv, no shell) to hold an account's mail and release it again.
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

// A command `respond` runs: argv[0] is the program (a path), no shell.
using Argv = std::vector<std::string>;

// A file the MTA reads that `respond` derives from its hold list (Postfix: the uids of held
// local users as a header_checks table), and the commands that make the MTA notice a change
// of it.
struct HoldMap {
  std::string path;
  std::string content;
  std::vector<Argv> after_change;
};

// What follows respond's hold list (one account per line, `ACCOUNT HOLD text`) into the MTA.
struct HoldListFollowers {
  std::vector<Argv> after_list_change;  // Postfix: postmap TYPE:LIST; Exim reads the list itself
  std::vector<HoldMap> maps;
};

}  // namespace mailrelay
