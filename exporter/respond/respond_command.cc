#include "respond/respond_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iomanip>
#include <memory>
#include <sstream>

#include "app/reload.h"
#include "app/runtime.h"
#include "app/signals.h"
#include "common/logging.h"
#include "common/text.h"
#include "http/http_server.h"
#include "http/web_config.h"
#include "respond/audit.h"
#include "respond/hold_list.h"
#include "respond/policy.h"
#include "respond/respond_metrics.h"
#include "respond/responder.h"
#include "respond/webhook_receiver.h"
#include "version.h"

namespace mailrelay::respond {

namespace {

const char kProgram[] = "mailrelay_exporter respond";

// Who runs `respond release`, for the audit: the sudo caller, else the login, else the uid.
std::string OperatorName() {
  for (const char* var : {"SUDO_USER", "LOGNAME", "USER"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  }
  return "uid " + std::to_string(::getuid());
}

// The directory of `path` (one level), created with `mode` when missing: the state and log
// directories of a fresh install (the unit's StateDirectory=/LogsDirectory= do it there too).
Status EnsureParentDirectory(const std::string& path, mode_t mode) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return Status::Ok();
  std::string dir = path.substr(0, slash);
  if (::mkdir(dir.c_str(), mode) == 0) {
    Log(LogLevel::kInfo, "created directory", {{"path", dir}});
  } else if (errno != EEXIST) {
    return ErrnoStatus(errno, "cannot create " + dir);
  }
  return Status::Ok();
}

// What every subcommand sets up: the module's queue reader (owners known), the audit log and
// the Responder.
struct Setup {
  std::unique_ptr<QueueSource> queue;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<Responder> responder;
};

StatusOr<Setup> BuildSetup(const RespondCommandLine& cl, bool dry_run, const Clock& clock,
                           RespondMetrics* metrics, const std::string& audit_path) {
  const MtaModule& mta = *cl.shared.mta();
  MtaContext ctx = MakeMtaContext(cl.shared.options, RunMode::kRespond, clock);
  StatusOr<QueueReader> reader = mta.MakeQueueReader(ctx);
  if (!reader.ok()) return reader.status().WithContext("the queue");
  if (!reader->source || !reader->owners) {
    return InvalidArgument(
        "respond needs a queue reader that knows who submitted each message: the Exim spool "
        "(--exim.spool-dir) or the Postfix queue files (--postfix.queue-source=files)");
  }
  Setup s;
  s.queue = std::move(reader->source);
  if (!audit_path.empty()) {
    if (Status made = EnsureParentDirectory(audit_path, 0750); !made.ok()) return made;
  }
  if (!dry_run) {
    if (Status made = EnsureParentDirectory(cl.respond.hold_list, 0755); !made.ok()) return made;
  }
  s.audit = std::make_unique<AuditLog>(audit_path);
  if (Status opened = s.audit->Open(); !opened.ok()) return opened;
  const RespondOptions& o = cl.respond;
  ResponderOptions ro;
  ro.dry_run = dry_run;
  ro.policy.alerts = SplitList(o.alerts, ',');
  ro.policy.severity = o.severity;
  ro.policy.instances = SplitList(o.instances, ',');
  ro.policy.never = NeverAccounts(mta.ServiceAccounts(), o.never);
  ro.max_actions_per_hour = o.max_actions_per_hour;
  ro.hold_list = o.hold_list;
  ro.command_timeout_seconds = o.command_timeout_seconds;
  s.responder = std::make_unique<Responder>(std::move(ro), mta, *s.queue, *s.audit, metrics, clock);
  return s;
}

int Serve(const RespondCommandLine& cl, std::ostream& err, const Clock& clock) {
  const CommonOptions& common = cl.shared.options;
  const RespondOptions& o = cl.respond;
  const bool dry_run = o.mode != "hold";
  HoldListFile list(o.hold_list);
  auto metrics = std::make_shared<RespondMetrics>([&list]() -> StatusOr<std::vector<HoldEntry>> {
    StatusOr<HoldListText> text = list.Read();
    if (!text.ok()) return text.status();
    return text->Entries();
  });
  StatusOr<Setup> setup = BuildSetup(cl, dry_run, clock, metrics.get(), o.audit_log);
  if (!setup.ok()) {
    err << kProgram << ": error: " << setup.status().message() << "\n";
    return 2;
  }
  Responder& responder = *setup->responder;
  if (!dry_run) {
    // The MTA snippets need the list (and Postfix its maps) to exist: make them follow it.
    if (Status synced = responder.Sync(); !synced.ok()) {
      err << kProgram << ": error: " << synced.message() << "\n";
      return 1;
    }
  }

  HttpServer::Options http_options;
  http_options.listen_address = common.web.listen_address;
  http_options.version = MAILRELAY_VERSION;
  http_options.revision = MAILRELAY_REVISION;
  http_options.title = "mailrelay_exporter respond";
  http_options.description =
      "Alertmanager webhook receiver (POST /webhook) that holds a hijacked account's mail; "
      "mode: " +
      std::string(dry_run ? "dry-run (nothing is changed)" : "hold") + ".";
  if (!common.web.config_file.empty()) {
    StatusOr<WebConfig> web_config = LoadWebConfig(common.web.config_file);
    if (!web_config.ok()) {
      err << kProgram << ": error: " << web_config.status().message() << "\n";
      return 2;
    }
    http_options.web_config = std::move(web_config).value();
  }
  HttpServer http(http_options, nullptr);
  http.AddCollectable(metrics);
  ConfigReloader reloader(metrics->registry(), clock);
  WebhookReceiver receiver(responder, *setup->audit, metrics.get(), clock);
  http.AddHandler("POST", "/webhook",
                  [&receiver](const HttpServer::Request& r) { return receiver.Handle(r); });

  SignalWaiter signals;
  if (Status started = http.Start(); !started.ok()) {
    err << kProgram << ": error: " << started.message() << "\n";
    return 1;
  }
  Log(LogLevel::kInfo, "starting mailrelay_exporter respond",
      {{"version", MAILRELAY_VERSION},
       {"mode", dry_run ? "dry-run" : "hold"},
       {"mta", cl.shared.mta()->name()},
       {"address", common.web.listen_address},
       {"hold_list", o.hold_list},
       {"audit_log", o.audit_log}});
  if (o.instances.empty()) {
    Log(LogLevel::kWarn,
        "--respond.instance is empty: alerts of every instance are acted on here (set it when "
        "one Alertmanager receiver reaches several servers)");
  }
  reloader.Attach(common.web.config_file, &http, nullptr);
  while (signals.Wait() == SignalWaiter::Event::kReload) reloader.Reload();
  Log(LogLevel::kInfo, "shutting down");
  http.Stop();
  receiver.Stop();
  return 0;
}

int Release(const RespondCommandLine& cl, const std::string& account, std::ostream& out,
            std::ostream& err, const Clock& clock) {
  std::string why;
  if (!IsPlausibleAccount(account, &why)) {
    err << kProgram << " release: error: '" << account << "' is not a plausible account (" << why
        << "); edit " << cl.respond.hold_list << " by hand for anything else\n";
    return 2;
  }
  // A person decides: release acts unless --respond.mode=dry-run is given explicitly.
  const bool dry_run = cl.shared.flags.Given("respond.mode") && cl.respond.mode != "hold";
  StatusOr<Setup> setup = BuildSetup(cl, dry_run, clock, nullptr, cl.respond.audit_log);
  if (!setup.ok()) {
    err << kProgram << " release: error: " << setup.status().message() << "\n";
    return 2;
  }
  ActionReport r = setup->responder->Release(account, OperatorName());
  out << "release " << account << ": " << r.result;
  if (r.remaining > 0) out << " (" << r.remaining << " message(s) still held)";
  out << "\n" << r.record << "\n";
  if (!r.error.empty()) err << kProgram << " release: error: " << r.error << "\n";
  return r.result == "failed" ? 1 : 0;
}

int PrintStatus(const RespondCommandLine& cl, std::ostream& out, std::ostream& err,
                const Clock& clock) {
  StatusOr<Setup> setup = BuildSetup(cl, true, clock, nullptr, "");
  if (!setup.ok()) {
    err << kProgram << " status: error: " << setup.status().message() << "\n";
    return 2;
  }
  StatusOr<std::vector<HeldAccount>> held = setup->responder->HeldAccounts();
  if (!held.ok()) {
    err << kProgram << " status: error: " << held.status().message() << "\n";
    return 1;
  }
  out << "hold list " << cl.respond.hold_list << ": " << held->size() << " account(s) held\n";
  if (held->empty()) return 0;
  std::size_t width = 7;
  for (const HeldAccount& h : *held) width = std::max(width, h.entry.account.size());
  out << std::left << std::setw(static_cast<int>(width)) << "ACCOUNT"
      << "  SINCE                 QUEUED    HELD  ALERT\n";
  for (const HeldAccount& h : *held) {
    out << std::left << std::setw(static_cast<int>(width)) << h.entry.account << "  "
        << std::setw(20) << (h.entry.since > 0 ? FormatUtc(h.entry.since) : "-") << "  "
        << std::right << std::setw(6) << h.queued << "  " << std::setw(6) << h.held << "  "
        << (h.entry.alert.empty() ? "-" : h.entry.alert) << "\n";
  }
  return 0;
}

}  // namespace

RespondCommandLine::RespondCommandLine() {
  FlagSet& f = shared.flags;
  // The exporter's port stays free: respond listens on loopback by default.
  (void)f.SetDefault("web.listen-address", "127.0.0.1:9226");
  f.Choice("respond.mode", &respond.mode, {"dry-run", "hold"},
           "dry-run: decide, audit and log the exact commands, change nothing; hold: hold the "
           "account's mail. `release` acts unless --respond.mode=dry-run is given.",
           kRespondScope);
  f.String("respond.alerts", &respond.alerts,
           "Comma-separated alert names acted on (alerts/mailrelay.rules.yml: the per-account "
           "relay alerts).",
           kRespondScope);
  f.String("respond.severity", &respond.severity,
           "The severity label an alert must carry to be acted on: critical is the page tier "
           "of the shipped rules; empty: any.",
           kRespondScope);
  f.String("respond.instance", &respond.instances,
           "Comma-separated values of the alerts' instance label that are this server (its "
           "exporter's scrape target); alerts of other instances are refused. Empty: any "
           "(one server per receiver).",
           kRespondScope, "any");
  f.String("respond.never", &respond.never,
           "Comma-separated accounts never held (VIPs, monitoring), in addition to root and the "
           "MTA's own users, which are always protected.",
           kRespondScope, "root + the MTA's users");
  f.Uint("respond.max-actions-per-hour", &respond.max_actions_per_hour,
         "Most new holds in any hour; beyond it alerts are refused (audited, "
         "mailrelay_respond_refusals_total{reason=\"rate_limited\"}).",
         kRespondScope, 1, 1000);
  f.Path("respond.audit-log", &respond.audit_log,
         "Audit log (JSON lines, appended): every notification, refusal, hold and release with "
         "the commands run or, in dry-run, that would run.",
         kRespondScope);
  f.Path("respond.hold-list", &respond.hold_list,
         "Hold list read by the MTA snippets (packaging/respond/): one ACCOUNT HOLD line per "
         "held account. Written atomically, mode 0644.",
         kRespondScope);
  f.Duration("respond.command-timeout", &respond.command_timeout_seconds, "30s",
             "Longest run of one command (exim -Mf, postsuper -h, postmap, whmapi1); killed "
             "past it.",
             kRespondScope, 0.1, 3600);
}

Status RespondCommandLine::Parse(int argc, const char* const* argv, int first) {
  return shared.Parse(argc, argv, kRespondScope, first);
}

std::vector<std::string> NeverAccounts(const std::vector<std::string>& service_accounts,
                                       const std::string& never_flag) {
  std::vector<std::string> never = {"root"};
  for (const std::string& a : service_accounts) never.push_back(a);
  for (const std::string& a : SplitList(never_flag, ',')) never.push_back(a);
  return never;
}

std::string RespondHelpText(const std::string& program) {
  std::ostringstream out;
  out << "usage: " << program << " respond [<flags>]\n"
      << "       " << program << " respond release ACCOUNT [<flags>]\n"
      << "       " << program << " respond status [<flags>]\n\n"
      << "Receives Alertmanager's webhook notifications (POST /webhook, payload version 4) and\n"
      << "holds the mail of the account a listed page-tier alert names: the account goes into\n"
      << "the hold list, which the shipped MTA snippet reads (new mail is accepted and frozen\n"
      << "or held, not refused), and its queued messages are frozen (Exim -Mf) or put on hold\n"
      << "(postsuper -h). Dry-run by default: everything is decided and audited, nothing is\n"
      << "changed. Never acts on an implausible account, on root, the MTA's users or\n"
      << "--respond.never, beyond --respond.max-actions-per-hour, or for an alert not listed;\n"
      << "every refusal is audited. A resolved notification releases nothing: `release` does.\n"
      << "Runs as root (exim -Mf, postsuper). Details: docs/respond.md.\n\n";
  RespondCommandLine command_line;
  out << command_line.shared.flags.SubcommandHelp(kRespondScope, program);
  return out.str();
}

int RunRespond(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
               const Clock& clock) {
  std::string sub;
  std::string account;
  int first = 1;
  if (argc > 1 &&
      (std::string_view(argv[1]) == "release" || std::string_view(argv[1]) == "status")) {
    sub = argv[1];
    first = 2;
    if (sub == "release") {
      if (argc < 3 || std::string_view(argv[2]).rfind("--", 0) == 0) {
        err << kProgram << " release: error: which account? (respond release ACCOUNT)\n";
        return 2;
      }
      account = argv[2];
      first = 3;
    }
  }
  RespondCommandLine command_line;
  if (Status s = command_line.Parse(argc, argv, first); !s.ok()) {
    err << kProgram << ": error: " << s.message() << "\n";
    return 2;
  }
  if (command_line.shared.options.help) {
    out << RespondHelpText("mailrelay_exporter");
    return 0;
  }
  SetLogLevel(command_line.shared.options.log_level);
  if (sub == "release") return Release(command_line, account, out, err, clock);
  if (sub == "status") return PrintStatus(command_line, out, err, clock);
  return Serve(command_line, err, clock);
}

}  // namespace mailrelay::respond
