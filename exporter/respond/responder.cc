#include "respond/responder.h"

#include <unistd.h>

#include <algorithm>

#include "common/file_io.h"
#include "common/logging.h"
#include "common/text.h"

namespace mailrelay::respond {

namespace {

constexpr std::size_t kAuditOutputBytes = 2000;
constexpr std::int64_t kCapWindowSeconds = 3600;

std::string Lower(std::string_view s) { return AsciiLower(s); }

std::string Truncated(const std::string& s) {
  if (s.size() <= kAuditOutputBytes) return s;
  return s.substr(0, kAuditOutputBytes) + "...";
}

std::string CommandStatus(const CommandResult& r) {
  switch (r.status) {
    case CommandResult::Status::kOk:
      return "ok";
    case CommandResult::Status::kExitStatus:
      return "exit " + std::to_string(r.exit_code);
    case CommandResult::Status::kStartFailed:
      return "start failed";
    case CommandResult::Status::kTimeout:
      return "timeout";
    case CommandResult::Status::kOutputTooLarge:
      return "output too large";
  }
  return "unknown";
}

}  // namespace

struct Responder::Step {
  std::string kind;    // "command" or "file"
  Argv argv;           // command
  std::string path;    // file
  std::string status;  // command: ok, exit N, timeout, ..., "not run (dry-run)"; file:
                       // written, unchanged, "would write", "error: ..."
  std::string output;
  double seconds = 0;
};

Responder::Responder(ResponderOptions options, const MtaModule& mta, QueueSource& queue,
                     AuditLog& audit, RespondMetrics* metrics, const Clock& clock, Runner runner)
    : options_(std::move(options)),
      mta_(mta),
      queue_(queue),
      audit_(audit),
      metrics_(metrics),
      clock_(clock),
      runner_(std::move(runner)),
      list_(options_.hold_list) {
  // The cap survives a restart: holds of the last hour are in the list with their time.
  if (StatusOr<HoldListText> list = list_.Read(); list.ok()) {
    const std::int64_t now = clock_.UnixSeconds();
    for (const HoldEntry& e : list->Entries()) {
      if (e.since > now - kCapWindowSeconds && e.since <= now) recent_holds_.push_back(e.since);
    }
    std::sort(recent_holds_.begin(), recent_holds_.end());
  }
}

void Responder::Record(const std::string& record) {
  if (!audit_.Append(record).ok() && metrics_ != nullptr) metrics_->AuditError();
}

std::string Responder::StepsJson(const std::vector<Step>& steps) {
  std::string out = "[";
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    JsonLine j;
    if (s.kind == "command") {
      j.StrArray("argv", s.argv);
    } else {
      j.Str("file", s.path);
    }
    j.Str("status", s.status);
    if (!s.output.empty()) j.Str("output", s.output);
    if (s.kind == "command" && s.status != "not run (dry-run)") j.Num("seconds", s.seconds);
    out += (i > 0 ? "," : "") + j.Finish();
  }
  return out + "]";
}

bool Responder::RunStep(const Argv& argv, std::vector<Step>* steps, std::string* error) {
  Step step;
  step.kind = "command";
  step.argv = argv;
  if (options_.dry_run) {
    step.status = "not run (dry-run)";
    steps->push_back(std::move(step));
    return true;
  }
  CommandOptions c;
  c.timeout_seconds = options_.command_timeout_seconds;
  c.max_output = 1u << 20;
  c.merge_stderr = true;
  CommandResult r = runner_(argv, c);
  step.status = CommandStatus(r);
  step.output = Truncated(r.output);
  if (!r.error.empty() && r.status != CommandResult::Status::kExitStatus) {
    step.output += (step.output.empty() ? "" : "\n") + r.error;
  }
  step.seconds = r.elapsed_seconds;
  const bool ok = r.status == CommandResult::Status::kOk;
  if (!ok && error->empty()) *error = (argv.empty() ? "" : argv[0]) + ": " + step.status;
  steps->push_back(std::move(step));
  return ok;
}

bool Responder::Follow(const std::vector<std::string>& accounts, bool list_changed,
                       std::vector<Step>* steps, std::string* error) {
  StatusOr<HoldListFollowers> followers = mta_.FollowHoldList(options_.hold_list, accounts);
  if (!followers.ok()) {
    *error = followers.status().message();
    return false;
  }
  bool ok = true;
  if (list_changed) {
    for (const Argv& argv : followers->after_list_change) ok = RunStep(argv, steps, error) && ok;
  }
  for (const HoldMap& map : followers->maps) {
    Step file;
    file.kind = "file";
    file.path = map.path;
    StatusOr<std::string> current = ReadWholeFile(map.path, 16u << 20);
    if (current.ok() && *current == map.content) {
      file.status = "unchanged";
      steps->push_back(std::move(file));
      continue;
    }
    if (options_.dry_run) {
      file.status = "would write";
      steps->push_back(std::move(file));
    } else if (mailrelay::Status w = WriteFileAtomically(map.path, map.content, 0644); !w.ok()) {
      file.status = "error: " + w.message();
      if (error->empty()) *error = w.message();
      steps->push_back(std::move(file));
      ok = false;
      continue;
    } else {
      file.status = "written";
      steps->push_back(std::move(file));
    }
    for (const Argv& argv : map.after_change) ok = RunStep(argv, steps, error) && ok;
  }
  return ok;
}

bool Responder::ReadQueue(const std::string& account, std::vector<std::string>* unheld,
                          std::vector<std::string>* held, std::string* error) {
  QueueScan scan = queue_.Scan();
  if (!scan.ok) {
    if (error->empty()) *error = "queue not read: " + scan.Describe();
    return false;
  }
  for (const auto& m : scan.messages) {
    if (!EqualsIgnoreCase(m->owner_label, account)) continue;
    (mta_.IsHeld(*m) ? held : unheld)->push_back(m->id);
  }
  if (scan.truncated && error->empty()) {
    *error = "queue read only in part (--queue.max-files): messages may be missing";
  }
  return true;
}

bool Responder::CapReached(std::int64_t now) {
  while (!recent_holds_.empty() && recent_holds_.front() <= now - kCapWindowSeconds) {
    recent_holds_.pop_front();
  }
  return recent_holds_.size() >= options_.max_actions_per_hour;
}

void Responder::Refuse(const WebhookAlert& alert, const Decision& d,
                       std::uint64_t notification_id) {
  JsonLine j;
  j.Str("ts", FormatUtc(clock_.UnixSeconds()))
      .Str("event", "refusal")
      .Int("notification", static_cast<std::int64_t>(notification_id))
      .Str("mode", options_.dry_run ? "dry-run" : "hold")
      .Str("alert", alert.Label("alertname"))
      .Str("severity", alert.Label("severity"))
      .Str("instance", alert.Label("instance"));
  if (alert.labels.count(options_.policy.account_label) > 0) j.Str("account", d.account);
  j.Str("fingerprint", alert.fingerprint).Str("reason", d.reason).Str("detail", d.detail);
  Record(j.Finish());
  Log(LogLevel::kWarn, "refused to act on an alert",
      {{"alert", alert.Label("alertname")}, {"reason", d.reason}, {"detail", d.detail}});
  if (metrics_ != nullptr) {
    metrics_->Refusal(d.reason);
    metrics_->Action("hold", "refused");
  }
}

void Responder::Handle(const WebhookPayload& payload, std::uint64_t notification_id,
                       std::int64_t received_at) {
  for (const WebhookAlert& alert : payload.alerts) {
    Decision d = Evaluate(options_.policy, alert);
    if (d.kind == Decision::Kind::kRefuse) {
      std::lock_guard<std::mutex> lock(mutex_);
      Refuse(alert, d, notification_id);
      continue;
    }
    if (d.kind == Decision::Kind::kIgnore) {
      JsonLine j;
      j.Str("ts", FormatUtc(clock_.UnixSeconds()))
          .Str("event", "ignored")
          .Int("notification", static_cast<std::int64_t>(notification_id))
          .Str("alert", alert.Label("alertname"))
          .Str("account", d.account)
          .Str("reason", d.reason)
          .Str("detail", d.detail);
      Record(j.Finish());
      continue;
    }
    Hold(d.account, alert, notification_id, received_at);
  }
}

ActionReport Responder::Hold(const std::string& account, const WebhookAlert& alert,
                             std::uint64_t notification_id, std::int64_t received_at) {
  std::lock_guard<std::mutex> guard(mutex_);
  const std::int64_t now = clock_.UnixSeconds();
  ActionReport report;
  std::vector<Step> steps;
  std::string error;
  std::string list_change;
  bool newly = false;

  StatusOr<std::unique_ptr<HoldListFile::Lock>> lock = list_.Acquire();
  StatusOr<HoldListText> list = lock.ok() ? list_.Read() : StatusOr<HoldListText>(lock.status());
  if (!list.ok()) {
    error = list.status().message();
  } else {
    // Dry-run: held by this process's earlier would-be holds, or by the list itself.
    const bool held = list->Find(account).has_value() ||
                      (options_.dry_run && dry_run_held_.count(Lower(account)) > 0);
    // A person released the account during this incident: its repeats hold nothing again.
    const std::int64_t released = list->ReleasedAt(account);
    const std::int64_t started = ParseUtc(alert.starts_at);
    if (!held && released > 0 && (started == 0 || started <= released)) {
      Decision d;
      d.account = account;
      d.reason = "released";
      d.detail = "released at " + FormatUtc(released) + "; this alert started " +
                 (started == 0 ? std::string("at an unknown time") : "at " + FormatUtc(started)) +
                 ", before (a later alert holds again)";
      Refuse(alert, d, notification_id);
      report.result = "refused";
      report.error = d.detail;
      return report;
    }
    if (!held && CapReached(now)) {
      Decision d;
      d.account = account;
      d.reason = "rate_limited";
      d.detail = std::to_string(recent_holds_.size()) + " holds in the last hour reach " +
                 "--respond.max-actions-per-hour=" + std::to_string(options_.max_actions_per_hour);
      Refuse(alert, d, notification_id);
      report.result = "refused";
      report.error = d.detail;
      return report;
    }
    newly = !held;
    if (held) {
      list_change = "present";
    } else if (options_.dry_run) {
      list_change = "would add";
      dry_run_held_[Lower(account)] = now;
      recent_holds_.push_back(now);
    } else {
      HoldEntry entry{account, now, alert.Label("alertname"), "webhook"};
      list->ClearReleased(account);
      list->Add(entry);
      if (mailrelay::Status w = list_.Write(*list); !w.ok()) {
        error = w.message();
        list_change = "error";
      } else {
        list_change = "added";
        recent_holds_.push_back(now);
      }
    }
    if (error.empty() && (newly || followers_failed_)) {
      std::vector<std::string> accounts;
      for (const HoldEntry& e : list->Entries()) accounts.push_back(e.account);
      if (options_.dry_run && !list->Find(account)) accounts.push_back(account);
      followers_failed_ = !Follow(accounts, true, &steps, &error);
    }
  }

  std::vector<std::string> unheld;
  std::vector<std::string> already;
  std::size_t queued = 0;
  std::string queue_error;  // of the freeze commands: the queue read afterwards decides
  // The queued mail is held even when the list's followers failed (new mail may then escape:
  // the hold fails, and says why).
  if (list.ok() && list_change != "error" && ReadQueue(account, &unheld, &already, &error)) {
    queued = unheld.size() + already.size();
    if (!unheld.empty()) {
      StatusOr<std::vector<Argv>> commands = mta_.QueueHoldCommands(unheld, true);
      if (!commands.ok()) {
        error = commands.status().message();
      } else {
        for (const Argv& argv : *commands) RunStep(argv, &steps, &queue_error);
      }
    }
  }
  if (newly && list.ok() && list_change != "error") {
    for (const Argv& argv : mta_.AccountHoldCommands(account, true)) RunStep(argv, &steps, &error);
  }
  // What is left: read the queue again (hold mode). The freeze commands' exit status matters
  // less than this: exim -Mf exits 1 for a message delivered meanwhile.
  std::size_t remaining = unheld.size();
  if (!options_.dry_run && list.ok() && list_change != "error") {
    std::vector<std::string> left;
    std::vector<std::string> now_held;
    if (ReadQueue(account, &left, &now_held, &error)) {
      remaining = left.size();
      queued = left.size() + now_held.size();
      if (remaining > 0 && error.empty()) error = queue_error;
    }
  } else if (error.empty()) {
    error = queue_error;
  }
  report.remaining = remaining;
  const bool ran = !steps.empty() || newly;
  if (options_.dry_run) {
    report.result = ran || !unheld.empty() ? "dry_run" : "unchanged";
  } else if (!error.empty() || remaining > 0) {
    report.result = "failed";
    if (error.empty()) error = std::to_string(remaining) + " queued message(s) still not held";
  } else {
    report.result = ran ? "done" : "unchanged";
  }
  report.error = error;

  JsonLine j;
  j.Str("ts", FormatUtc(clock_.UnixSeconds()))
      .Str("event", "hold")
      .Int("notification", static_cast<std::int64_t>(notification_id))
      .Str("received", FormatUtc(received_at))
      .Str("mode", options_.dry_run ? "dry-run" : "hold")
      .Str("result", report.result)
      .Str("account", account)
      .Str("alert", alert.Label("alertname"))
      .Str("severity", alert.Label("severity"))
      .Str("instance", alert.Label("instance"))
      .Str("fingerprint", alert.fingerprint)
      .Str("hold_list", list_change.empty() ? "not read" : list_change)
      .Str("hold_list_path", options_.hold_list)
      .Int("queued", static_cast<std::int64_t>(queued))
      .Int("held_before", static_cast<std::int64_t>(already.size()))
      .Int("to_hold", static_cast<std::int64_t>(unheld.size()))
      .Int("remaining", static_cast<std::int64_t>(remaining))
      .Raw("steps", StepsJson(steps));
  if (!error.empty()) j.Str("error", error);
  report.record = j.Finish();
  Record(report.record);
  Log(report.result == "failed" ? LogLevel::kError : LogLevel::kInfo, "hold",
      {{"account", account},
       {"result", report.result},
       {"to_hold", std::to_string(unheld.size())},
       {"remaining", std::to_string(remaining)},
       {"error", error}});
  if (metrics_ != nullptr) {
    metrics_->Action("hold", report.result);
    if (report.result != "unchanged") metrics_->LastAction(now);
  }
  return report;
}

ActionReport Responder::Release(const std::string& account, const std::string& operator_name) {
  std::lock_guard<std::mutex> guard(mutex_);
  const std::int64_t now = clock_.UnixSeconds();
  ActionReport report;
  std::vector<Step> steps;
  std::string error;
  std::string list_change = "not read";
  bool listed = false;

  StatusOr<std::unique_ptr<HoldListFile::Lock>> lock = list_.Acquire();
  StatusOr<HoldListText> list = lock.ok() ? list_.Read() : StatusOr<HoldListText>(lock.status());
  if (!list.ok()) {
    error = list.status().message();
  } else {
    listed = options_.dry_run
                 ? (list->Find(account).has_value() || dry_run_held_.count(Lower(account)) > 0)
                 : list->Find(account).has_value();
    if (!listed) {
      list_change = "absent";
    } else if (options_.dry_run) {
      list_change = "would remove";
      dry_run_held_.erase(Lower(account));
    } else {
      list->Remove(account);
      list->MarkReleased(account, now);
      if (mailrelay::Status w = list_.Write(*list); !w.ok()) {
        error = w.message();
        list_change = "error";
      } else {
        list_change = "removed";
      }
    }
    if (error.empty() && listed) {
      std::vector<std::string> accounts;
      for (const HoldEntry& e : list->Entries()) {
        if (!options_.dry_run || !EqualsIgnoreCase(e.account, account)) {
          accounts.push_back(e.account);
        }
      }
      followers_failed_ = !Follow(accounts, true, &steps, &error);
    }
  }
  std::vector<std::string> unheld;
  std::vector<std::string> held;
  std::size_t queued = 0;
  std::string queue_error;  // of the thaw commands: the queue read afterwards decides
  if (list.ok() && list_change != "error" && ReadQueue(account, &unheld, &held, &error)) {
    queued = unheld.size() + held.size();
    if (!held.empty()) {
      StatusOr<std::vector<Argv>> commands = mta_.QueueHoldCommands(held, false);
      if (!commands.ok()) {
        error = commands.status().message();
      } else {
        for (const Argv& argv : *commands) RunStep(argv, &steps, &queue_error);
      }
    }
  }
  if (list.ok() && list_change != "error") {
    for (const Argv& argv : mta_.AccountHoldCommands(account, false)) {
      RunStep(argv, &steps, &error);
    }
  }
  std::size_t remaining = held.size();
  if (!options_.dry_run && list.ok() && list_change != "error") {
    std::vector<std::string> not_held;
    std::vector<std::string> still;
    if (ReadQueue(account, &not_held, &still, &error)) {
      remaining = still.size();
      if (remaining > 0 && error.empty()) error = queue_error;
    }
  } else if (error.empty()) {
    error = queue_error;
  }
  report.remaining = remaining;
  const bool ran = !steps.empty() || listed;
  if (options_.dry_run) {
    report.result = ran ? "dry_run" : "unchanged";
  } else if (!error.empty() || remaining > 0) {
    report.result = "failed";
    if (error.empty()) error = std::to_string(remaining) + " queued message(s) still held";
  } else {
    report.result = ran ? "done" : "unchanged";
  }
  report.error = error;

  JsonLine j;
  j.Str("ts", FormatUtc(now))
      .Str("event", "release")
      .Str("mode", options_.dry_run ? "dry-run" : "hold")
      .Str("result", report.result)
      .Str("account", account)
      .Str("by", "cli")
      .Str("operator", operator_name)
      .Str("hold_list", list_change)
      .Str("hold_list_path", options_.hold_list)
      .Int("queued", static_cast<std::int64_t>(queued))
      .Int("to_release", static_cast<std::int64_t>(held.size()))
      .Int("remaining", static_cast<std::int64_t>(remaining))
      .Raw("steps", StepsJson(steps));
  if (!error.empty()) j.Str("error", error);
  report.record = j.Finish();
  Record(report.record);
  if (metrics_ != nullptr) {
    metrics_->Action("release", report.result);
    if (report.result != "unchanged") metrics_->LastAction(now);
  }
  return report;
}

StatusOr<std::vector<HeldAccount>> Responder::HeldAccounts() {
  std::lock_guard<std::mutex> guard(mutex_);
  StatusOr<HoldListText> list = list_.Read();
  if (!list.ok()) return list.status();
  std::vector<HeldAccount> out;
  for (const HoldEntry& e : list->Entries()) out.push_back({e, 0, 0});
  if (out.empty()) return out;
  QueueScan scan = queue_.Scan();
  if (!scan.ok) return Unavailable("queue not read: " + scan.Describe());
  for (const auto& m : scan.messages) {
    for (HeldAccount& h : out) {
      if (!EqualsIgnoreCase(m->owner_label, h.entry.account)) continue;
      ++h.queued;
      if (mta_.IsHeld(*m)) ++h.held;
    }
  }
  return out;
}

mailrelay::Status Responder::Sync() {
  std::lock_guard<std::mutex> guard(mutex_);
  StatusOr<std::unique_ptr<HoldListFile::Lock>> lock = list_.Acquire();
  if (!lock.ok()) return lock.status();
  StatusOr<HoldListText> list = list_.Read();
  if (!list.ok()) return list.status();
  if (::access(options_.hold_list.c_str(), F_OK) != 0) {
    if (mailrelay::Status w = list_.Write(*list); !w.ok()) return w;
  }
  std::vector<std::string> accounts;
  for (const HoldEntry& e : list->Entries()) accounts.push_back(e.account);
  std::vector<Step> steps;
  std::string error;
  followers_failed_ = !Follow(accounts, true, &steps, &error);
  JsonLine j;
  j.Str("ts", FormatUtc(clock_.UnixSeconds()))
      .Str("event", "sync")
      .Str("mode", options_.dry_run ? "dry-run" : "hold")
      .Str("hold_list_path", options_.hold_list)
      .Int("held", static_cast<std::int64_t>(accounts.size()))
      .Raw("steps", StepsJson(steps));
  if (!error.empty()) j.Str("error", error);
  Record(j.Finish());
  if (!error.empty()) return Unavailable("the MTA's maps do not follow the hold list: " + error);
  return mailrelay::Status::Ok();
}

}  // namespace mailrelay::respond
