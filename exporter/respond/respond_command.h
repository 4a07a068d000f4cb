// `mailrelay_exporter respond`: contains a hijacked account when Alertmanager says so
// (docs/respond.md). main.cc hands it argv from the word "respond" on.
//   respond [<flags>]                  serve POST /webhook (Alertmanager webhook v4), /metrics,
//                                      /-/healthy, /-/ready on --web.listen-address
//   respond release ACCOUNT [<flags>]  undo a hold (thaw the account's mail, drop it from the
//                                      hold list)
//   respond status [<flags>]           list the held accounts, since when, by which alert
// Flags: respond's own (--respond.*) and the shared ones of the one flag table
// (app/command_line.h) whose scope includes respond: --web.listen-address (default
// 127.0.0.1:9226 here), --web.config.file, --mta, the MTA modules' queue and command flags,
// --queue.*, --log.level.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "app/command_line.h"
#include "common/clock.h"
#include "common/status.h"

namespace mailrelay::respond {

struct RespondOptions {
  std::string mode = "dry-run";  // dry-run | hold
  std::string alerts = "MailRelayAuthrelayHigh,MailRelayLocalrelayHigh";
  std::string severity = "critical";
  std::string instances;  // comma-separated; empty = any
  std::string never;      // comma-separated, added to root and the MTA's own users
  std::size_t max_actions_per_hour = 10;
  std::string audit_log = "/var/log/mailrelay-exporter/respond-audit.jsonl";
  std::string hold_list = "/var/lib/mailrelay-exporter/hold-list";
  double command_timeout_seconds = 30;
};

// The shared command line plus respond's own flags.
class RespondCommandLine {
 public:
  RespondCommandLine();
  // argv[0] is the command word ("respond"); `first` skips the subcommand words.
  Status Parse(int argc, const char* const* argv, int first);

  CommandLine shared;
  RespondOptions respond;
};

std::string RespondHelpText(const std::string& program);

// The accounts never held: root, the MTA's own users and --respond.never.
std::vector<std::string> NeverAccounts(const std::vector<std::string>& service_accounts,
                                       const std::string& never_flag);

// Runs the command; returns the process exit status (0 ok, 1 failure, 2 bad flags or setup).
int RunRespond(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
               const Clock& clock);

}  // namespace mailrelay::respond
