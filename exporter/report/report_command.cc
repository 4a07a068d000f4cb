#include "report/report_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "classify/relay_classifier.h"
#include "common/command_runner.h"
#include "common/logging.h"
#include "common/net.h"
#include "common/text.h"
#include "mta/exim/spool_scanner.h"
#include "queue/command_queue_sources.h"
#include "report/actions.h"
#include "report/aggregator.h"
#include "report/log_scan.h"
#include "report/render.h"

namespace mailrelay::report {

namespace {

struct FlagSpec {
  const char* name;
  bool is_bool;
};

// The exporter's flags the report takes, with the exporter's parser and meaning.
constexpr FlagSpec kSharedFlags[] = {
    {"mta", false},
    {"exim.mainlog", false},
    {"exim.spool-dir", false},
    {"exim.queue-source", false},
    {"exim.binary", false},
    {"queue.max-files", false},
    {"queue.scan-threads", false},
    {"queue.io-uring", true},
    {"queue.command-timeout", false},
    {"postfix.log", false},
    {"postfix.postqueue-binary", false},
    {"postfix.correlation-max-entries", false},
    {"postfix.correlation-ttl", false},
    {"relay.local-networks", false},
    {"relay.include-interface-addresses", true},
    {"relay.relayhosts", false},
    {"relay.ignore-users", false},
    {"log.level", false},
};

struct ReportFlag {
  const char* name;
  bool is_bool;
  const char* default_text;
  const char* help;
};

constexpr ReportFlag kReportFlags[] = {
    {"since", false, "<until - 1h>",
     "Start of the window (inclusive): 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD' (local time, "
     "like Exim's timestamps), RFC 3339 ('2026-11-22T10:00:00+01:00', 'Z'), 'now', or a "
     "duration back from now ('2h', '1h30m', '2d')."},
    {"until", false, "now",
     "End of the window (exclusive), in the same forms. The log's own timestamps decide what "
     "is in the window; rotated and gzip'd files are read when the window reaches them."},
    {"top", false, "10", "Rows in each top list (1 to 10000)."},
    {"format", false, "text",
     "text (aligned tables) or json (stable keys, documented in docs/report.md)."},
    {"queue", true, "true",
     "Also read the queue (the exporter's --exim.queue-source / postqueue -j) when readable; "
     "--no-queue leaves it out."},
    {"help", true, "", "Show this help and exit."},
};

const FlagSpec* FindShared(std::string_view name) {
  for (const auto& f : kSharedFlags) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

const ReportFlag* FindReportFlag(std::string_view name) {
  for (const auto& f : kReportFlags) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

bool IsExporterFlag(std::string_view name) {
  for (const auto& f : FlagTable()) {
    if (name == f.name) return true;
  }
  return false;
}

bool ParseBoolText(const std::string& v, bool* out) {
  if (v == "true" || v == "1" || v == "yes") {
    *out = true;
  } else if (v == "false" || v == "0" || v == "no") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

Result<bool> SetReportFlag(const ReportFlag& f, const std::string& value, ReportOptions* o) {
  std::string_view name = f.name;
  bool ok = true;
  if (name == "since") {
    o->since = value;
    ok = !value.empty();
  } else if (name == "until") {
    o->until = value;
    ok = !value.empty();
  } else if (name == "top") {
    std::uint64_t n = 0;
    ok = ParseUint64(value, &n) && n >= 1 && n <= 10000;
    o->top = static_cast<std::size_t>(n);
  } else if (name == "format") {
    o->format = value;
    ok = value == "text" || value == "json";
  } else if (name == "queue") {
    ok = ParseBoolText(value, &o->queue);
  } else if (name == "help") {
    ok = ParseBoolText(value, &o->help);
  }
  if (!ok) return Result<bool>::Error("invalid value '" + value + "' for flag --" + f.name);
  return Result<bool>::Ok(true);
}

std::string SpoolRootOf(const std::string& input_dir) {
  auto slash = input_dir.rfind('/');
  if (slash == std::string::npos || input_dir.substr(slash + 1) != "input") return "";
  return slash == 0 ? "/" : input_dir.substr(0, slash);
}

std::string DescribeQueueErrors(const QueueScan& scan) {
  std::string out;
  for (int i = 0; i < kQueueErrorCount; ++i) {
    if (scan.errors[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(scan.errors[i]) + " " + QueueErrorName(static_cast<QueueError>(i)) +
           " error" + (scan.errors[i] == 1 ? "" : "s");
  }
  return out.empty() ? "nothing usable read" : out;
}

// Reads the queue as the exporter would (its --exim.queue-source, or postqueue -j). Returns
// nullopt when the queue is not to be read at all.
std::optional<QueueReport> ReadQueue(const Config& config, bool postfix, ReportAggregator* agg,
                                     std::string* spool_root) {
  QueueReport q;
  QueueScan scan;
  CommandOptions command;
  command.timeout_seconds = config.queue_command_timeout_seconds;
  if (postfix) {
    std::string binary = config.postfix_postqueue_binary.empty() ? FindExecutable({"postqueue"})
                                                                 : config.postfix_postqueue_binary;
    q.source = (binary.empty() ? std::string("postqueue") : binary) + " -j";
    if (binary.empty()) {
      q.error = "postqueue not found (--postfix.postqueue-binary)";
      return q;
    }
    PostqueueSource source({binary, "-j"}, command);
    scan = source.Scan();
  } else if (config.exim_queue_source == "none") {
    return std::nullopt;
  } else if (config.exim_queue_source == "bp") {
    std::string binary = config.exim_binary.empty() ? DetectEximBinary() : config.exim_binary;
    q.source = (binary.empty() ? std::string("exim") : binary) + " -bp";
    if (binary.empty()) {
      q.error = "no exim binary found (--exim.binary)";
      return q;
    }
    EximBpSource source({binary, "-bp"}, command);
    scan = source.Scan();
  } else {
    std::string input =
        EximInputDir(config.exim_spool_dir.empty() ? DetectEximSpoolDir() : config.exim_spool_dir);
    q.source = "spool " + input;
    if (::access(input.c_str(), R_OK | X_OK) != 0) {
      q.error = input + ": " + std::strerror(errno);
      return q;
    }
    EximSpoolScanner::Options options;
    options.input_dir = input;
    options.max_files = config.queue_max_files;
    options.threads = config.queue_scan_threads;
    options.io_uring = config.queue_io_uring;
    EximSpoolScanner scanner(options);
    scan = scanner.Scan();
    *spool_root = SpoolRootOf(input);
  }
  q.ok = scan.ok;
  q.truncated = scan.truncated;
  if (!scan.ok) {
    q.error = DescribeQueueErrors(scan);
    spool_root->clear();
    return q;
  }
  agg->OnQueue(scan.messages);
  return q;
}

Result<RelayPolicy> BuildPolicy(const Config& config) {
  RelayPolicy policy;
  for (const auto& cidr : SplitList(config.local_networks, ',')) {
    if (!policy.local_networks.Add(cidr)) {
      return Result<RelayPolicy>::Error("bad CIDR '" + cidr + "' in --relay.local-networks");
    }
  }
  if (config.include_interface_addresses) {
    for (const auto& ip : LocalInterfaceAddresses()) policy.local_networks.AddAddress(ip);
  }
  policy.relayhosts_files = SplitList(config.relayhosts, ',');
  for (const auto& u : SplitList(config.ignore_users, ',')) policy.ignore_users.insert(u);
  return Result<RelayPolicy>::Ok(std::move(policy));
}

}  // namespace

Result<ReportOptions> ParseReportFlags(int argc, const char* const* argv) {
  ReportOptions options;
  std::vector<std::string> shared = {"report"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h") arg = "--help";
    if (arg.rfind("--", 0) != 0) {
      return Result<ReportOptions>::Error("unexpected argument '" + arg +
                                          "' (flags start with --; see report --help)");
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    std::string base = name;
    bool negated = false;
    if (name.rfind("no-", 0) == 0 && !FindReportFlag(name) && !FindShared(name)) {
      base = name.substr(3);
      negated = true;
    }
    if (const ReportFlag* f = FindReportFlag(base)) {
      if (negated && (!f->is_bool || has_value)) {
        return Result<ReportOptions>::Error("unknown flag --" + name + " (see report --help)");
      }
      if (negated) {
        value = "false";
      } else if (!has_value) {
        if (f->is_bool) {
          value = "true";
        } else if (i + 1 < argc) {
          value = argv[++i];
        } else {
          return Result<ReportOptions>::Error("flag --" + name + " needs a value");
        }
      }
      auto set = SetReportFlag(*f, value, &options);
      if (!set) return Result<ReportOptions>::Error(set.error());
      continue;
    }
    if (const FlagSpec* f = FindShared(base)) {
      if (negated && !f->is_bool) {
        return Result<ReportOptions>::Error("unknown flag --" + name + " (see report --help)");
      }
      if (base == "log.level") options.log_level_given = true;
      shared.push_back(arg);
      if (!negated && !has_value && !f->is_bool) {
        if (i + 1 >= argc) return Result<ReportOptions>::Error("flag --" + name + " needs a value");
        shared.push_back(argv[++i]);
      }
      continue;
    }
    if (IsExporterFlag(base)) {
      return Result<ReportOptions>::Error("--" + base +
                                          " is an exporter flag the report does not take (see "
                                          "report --help)");
    }
    return Result<ReportOptions>::Error("unknown flag --" + name + " (see report --help)");
  }
  std::vector<const char*> shared_argv;
  for (const auto& s : shared) shared_argv.push_back(s.c_str());
  std::string error;
  if (!ParseFlags(static_cast<int>(shared_argv.size()), shared_argv.data(), &options.config,
                  &error)) {
    return Result<ReportOptions>::Error(error);
  }
  return Result<ReportOptions>::Ok(std::move(options));
}

std::string ReportHelpText(const std::string& program) {
  std::ostringstream out;
  out << "usage: " << program << " report [<flags>]\n\n"
      << "Reads the mail log once (with its rotated and gzip'd predecessors when the window\n"
      << "reaches back into them) and the queue, and prints for a time window what mail\n"
      << "admins compute with grep | sort | uniq -c: accepted mail per relay class, top auth\n"
      << "users, source IPs per class and local (script) users, spoofing suspects, failed\n"
      << "SMTP AUTH by IP, rejects by reason, the queue by owner and sender with frozen and\n"
      << "bounce counts, and the exact commands to freeze or remove the top offender's mail.\n"
      << "Log times are local time unless a line carries its zone. Exit status: 0, 1 when no\n"
      << "log file could be read, 2 for bad flags.\n\n"
      << "Examples:\n"
      << "  " << program << " report                      # the last hour\n"
      << "  " << program << " report --since=6h --top=20\n"
      << "  " << program
      << " report --since='2026-11-22 08:00:00' --until='2026-11-22 12:00:00' --format=json\n\n"
      << "Flags:\n";
  for (const auto& f : kReportFlags) {
    std::string left = std::string("  --") + f.name;
    if (f.default_text[0] != '\0' && std::string_view(f.name) != "help") {
      left += std::string("=") + f.default_text;
    }
    out << left << "\n      " << f.help << "\n";
  }
  out << "\nFlags shared with the exporter (same meaning; see " << program << " --help):\n";
  for (const auto& s : kSharedFlags) {
    for (const auto& f : FlagTable()) {
      if (f.name != s.name) continue;
      std::string left = "  --" + f.name;
      if (!f.default_value.empty() && f.default_value != "false") {
        left += "=" + f.default_value;
      }
      out << left << "\n      " << f.help << "\n";
    }
  }
  out << "\nWithout --exim.spool-dir the Exim spool is autodetected; --exim.queue-source=none\n"
      << "or --no-queue leaves the queue out. The Postfix queue is read with postqueue -j.\n"
      << "Diagnostics go to stderr; --log.level defaults to warn here.\n";
  return out.str();
}

std::string CommandsHelpText() {
  return "\nCommands:\n"
         "  report [<flags>]\n"
         "      Read the logs and the queue once and print what happened in a time window: top\n"
         "      auth users, IPs and local users, spoofing, failed logins, rejects, the queue by\n"
         "      owner, and the commands to act on the top offender. See 'report --help'.\n";
}

int RunReport(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
              std::int64_t now) {
  const std::string program = "mailrelay_exporter";
  auto parsed = ParseReportFlags(argc, argv);
  if (!parsed) {
    err << program << " report: error: " << parsed.error() << "\n";
    return 2;
  }
  const ReportOptions& options = *parsed;
  if (options.help) {
    out << ReportHelpText(program);
    return 0;
  }
  const Config& config = options.config;
  SetLogLevel(options.log_level_given ? config.log_level : LogLevel::kWarn);
  if (now == 0) now = static_cast<std::int64_t>(std::time(nullptr));

  auto window = ResolveWindow(options.since, options.until, now);
  if (!window) {
    err << program << " report: error: " << window.error() << "\n";
    return 2;
  }
  auto policy = BuildPolicy(config);
  if (!policy) {
    err << program << " report: error: " << policy.error() << "\n";
    return 2;
  }
  RelayClassifier classifier(std::move(policy).value());

  const bool postfix = ResolveMta(config) == "postfix";
  ScanOptions scan_options;
  scan_options.mta = postfix ? Mta::kPostfix : Mta::kExim;
  scan_options.window = *window;
  scan_options.reference_time = window->until;
  scan_options.correlation.max_entries = config.postfix_correlation_max_entries;
  scan_options.correlation.ttl_seconds =
      static_cast<std::int64_t>(config.postfix_correlation_ttl_seconds);
  std::string path;
  if (postfix) {
    path = config.postfix_log.empty() ? DetectPostfixLog() : config.postfix_log;
  } else {
    path = config.exim_mainlog.empty() ? DetectEximMainlog() : config.exim_mainlog;
  }

  std::unordered_set<std::string> ignore_users;
  for (const auto& u : SplitList(config.ignore_users, ',')) ignore_users.insert(u);
  ReportAggregator aggregator(std::move(ignore_users));
  ScanResult scan = ScanLog(path, scan_options, classifier, aggregator);
  for (const auto& f : scan.logs) {
    if (f.status == "error")
      err << program << " report: warning: " << f.path << ": " << f.error << "\n";
  }
  if (scan.logs.empty()) {
    err << program << " report: error: no log at " << path
        << " (nor rotated files beside it); see --" << (postfix ? "postfix.log" : "exim.mainlog")
        << "\n";
    return 1;
  }
  if (scan.files_read == 0 && scan.files_failed > 0) {
    err << program << " report: error: no log file could be read\n";
    return 1;
  }

  ReportData data;
  data.mta = postfix ? "postfix" : "exim";
  data.window = *window;
  data.logs = std::move(scan.logs);
  data.lines_read = scan.lines_read;
  data.lines_unparsed = scan.lines_unparsed;
  data.lines_in_window = scan.lines_in_window;
  std::string spool_root;
  if (options.queue) data.queue = ReadQueue(config, postfix, &aggregator, &spool_root);
  if (data.queue && !data.queue->ok) {
    err << program << " report: warning: queue not read: " << data.queue->error << "\n";
  }
  aggregator.Finish(options.top, &data);
  if (data.offender) {
    auto key = aggregator.TopOffender();
    ActionInput input{data.mta, key->identity, key->kind, key->sender, spool_root};
    AddActions(input, &*data.offender);
  }

  out << (options.format == "json" ? RenderJson(data) : RenderText(data));
  out.flush();
  return out.good() ? 0 : 1;
}

}  // namespace mailrelay::report
