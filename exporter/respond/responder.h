// The Responder: from a decided alert to a contained account, and back.
//
// Hold(account) = two reversible steps, under the hold list's lock (hold_list.h):
//   1. new mail: the account goes into the hold list, which the shipped MTA snippet consults
//      (Exim: the ACL freezes it; Postfix: check_sasl_access / the pickup cleanup HOLD it),
//      and the module's followers run (Postfix: postmap, the pickup uid table, postfix reload);
//   2. queued mail: the account's queued messages that are not held yet (the module's queue
//      reader knows each message's owner) are frozen / put on hold with the module's commands
//      (exim -Mf, postsuper -h), plus the host's own hold when it has one (cPanel whmapi1);
//   then the queue is read again: the hold is `done` when no message of the account is left
//   unheld, else `failed` (audited with what is left). The list is written before the queue is
//   read, so nothing the account submits in between escapes.
// A repeat notification for a held account is `unchanged` unless messages of the account
// turned up unheld (they are held then) or the followers failed last time (they run again);
// it never counts against the hourly cap, which counts
// new holds over the last hour (seeded from the list's since= times at start).
// Release(account) undoes both: the entry leaves the list, the followers run, the account's
// held messages are thawed (exim -Mt, postsuper -H), cPanel's hold is released. The list keeps
// the time of the release, and an alert that started before it is refused ("released"): the
// repeats of the incident a person decided on do not hold the account again.
// Dry-run: everything is decided and audited (would-be commands and file changes included),
// nothing is written or run; the accounts a dry run would have held are remembered in memory
// so that repeats show as unchanged there too.
// Commands run without a shell, with --respond.command-timeout; their output is audited.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/command_runner.h"
#include "mta/mta_module.h"
#include "queue/queue_source.h"
#include "respond/audit.h"
#include "respond/hold_list.h"
#include "respond/policy.h"
#include "respond/respond_metrics.h"
#include "respond/webhook.h"

namespace mailrelay::respond {

struct ResponderOptions {
  bool dry_run = true;
  PolicyOptions policy;
  std::size_t max_actions_per_hour = 10;
  std::string hold_list;  // path
  double command_timeout_seconds = 30;
};

// What one hold or release did (also what `respond release` prints).
struct ActionReport {
  std::string result;         // done, dry_run, unchanged, failed (refusals are not actions)
  std::string record;         // the audit record (JSON)
  std::size_t remaining = 0;  // hold: the account's messages left unheld; release: left held
  std::string error;          // why it failed, "" otherwise
};

// One held account as `respond status` shows it.
struct HeldAccount {
  HoldEntry entry;
  std::size_t queued = 0;  // the account's messages in the queue
  std::size_t held = 0;    // of those, frozen / on hold
};

class Responder {
 public:
  using Runner = std::function<CommandResult(const Argv& argv, const CommandOptions& options)>;

  // `queue` is the module's reader (owners known); `runner` runs commands (RunCommand; tests
  // record them instead). `metrics` may be null (the CLI).
  Responder(ResponderOptions options, const MtaModule& mta, QueueSource& queue, AuditLog& audit,
            RespondMetrics* metrics, const Clock& clock, Runner runner = RunCommand);

  // Every alert of one notification: decided, acted on and audited, in order. Serialised.
  void Handle(const WebhookPayload& payload, std::uint64_t notification_id,
              std::int64_t received_at);
  // `respond release ACCOUNT` (`operator_name`: who, for the audit).
  ActionReport Release(const std::string& account, const std::string& operator_name);
  // `respond status`.
  StatusOr<std::vector<HeldAccount>> HeldAccounts();
  // Hold mode, at start: the hold list exists (empty when new) and the MTA's maps follow it.
  mailrelay::Status Sync();

  // For tests and the CLI: hold one account as an alert named `alert` would.
  ActionReport Hold(const std::string& account, const WebhookAlert& alert,
                    std::uint64_t notification_id, std::int64_t received_at);

 private:
  struct Step;  // one command or file change of an action, as audited
  void Refuse(const WebhookAlert& alert, const Decision& d, std::uint64_t notification_id);
  void Record(const std::string& record);
  bool CapReached(std::int64_t now);
  // Runs (or, dry-run, lists) the followers of the list holding `accounts`.
  bool Follow(const std::vector<std::string>& accounts, bool list_changed, std::vector<Step>* steps,
              std::string* error);
  bool RunStep(const Argv& argv, std::vector<Step>* steps, std::string* error);
  // The account's queued messages, split by held or not. False with *error when unreadable.
  bool ReadQueue(const std::string& account, std::vector<std::string>* unheld,
                 std::vector<std::string>* held, std::string* error);
  static std::string StepsJson(const std::vector<Step>& steps);

  ResponderOptions options_;
  const MtaModule& mta_;
  QueueSource& queue_;
  AuditLog& audit_;
  RespondMetrics* metrics_;
  const Clock& clock_;
  Runner runner_;
  HoldListFile list_;
  std::mutex mutex_;                                  // one action at a time in this process
  std::deque<std::int64_t> recent_holds_;             // start times of holds in the last hour
  std::map<std::string, std::int64_t> dry_run_held_;  // lower-cased account -> since
  bool followers_failed_ = false;  // the last run of the followers failed: run them again
};

}  // namespace mailrelay::respond
