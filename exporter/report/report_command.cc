#include "report/report_command.h"

#include <sstream>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "app/runtime.h"
#include "classify/relay_classifier.h"
#include "common/logging.h"
#include "mta/registry.h"
#include "pipeline/line_processor.h"
#include "report/aggregator.h"
#include "report/log_scan.h"
#include "report/render.h"
#include "rules/rule_set.h"
#include "rules/rule_tally.h"

namespace mailrelay::report {

namespace {

// Reads the queue with the module's reader, as the exporter would; *messages gets what it read.
// nullopt when the queue is not to be read at all (e.g. --exim.queue-source=none).
std::optional<QueueReport> ReadQueue(const MtaModule& mta, const MtaContext& ctx,
                                     ReportAggregator* agg,
                                     std::vector<std::shared_ptr<const QueueMessage>>* messages) {
  StatusOr<QueueReader> reader = mta.MakeQueueReader(ctx);
  QueueReport q;
  if (!reader.ok()) {
    q.error = reader.status().message();
    return q;
  }
  if (!reader->source) return std::nullopt;
  q.source = reader->description;
  QueueScan scan = reader->source->Scan();
  q.ok = scan.ok;
  q.truncated = scan.truncated;
  if (!scan.ok) {
    q.error = scan.Describe();
    return q;
  }
  agg->OnQueue(scan.messages);
  *messages = std::move(scan.messages);
  return q;
}

}  // namespace

ReportCommandLine::ReportCommandLine() {
  FlagSet& f = shared.flags;
  f.String("since", &report.since,
           "Start of the window (inclusive): 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD' (wall-clock "
           "time in the log's zone, like its own timestamps; a repeated DST hour is read "
           "widest), RFC 3339 ('2026-11-22T10:00:00+01:00', 'Z'), 'now', or a duration back "
           "from now ('2h', '1h30m', '2d').",
           kReportScope, "<until - 1h>");
  f.String("until", &report.until,
           "End of the window (exclusive), in the same forms. The log's own timestamps decide "
           "what is in the window; rotated and gzip'd files are read when the window reaches "
           "them.",
           kReportScope, "now");
  f.Uint("top", &report.top, "Rows in each top list (1 to 10000).", kReportScope, 1, 10000);
  f.Choice("format", &report.format, {"text", "json"},
           "text (aligned tables) or json (stable keys, documented in docs/report.md).",
           kReportScope);
  f.Bool("queue", &report.queue,
         "Also read the queue (as --exim.queue-source / --postfix.queue-source say) when "
         "readable; --no-queue leaves it out.",
         kReportScope);
}

Status ReportCommandLine::Parse(int argc, const char* const* argv) {
  return shared.Parse(argc, argv, kReportScope, 1);
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
      << "Log times without a zone are local time (Exim: --exim.log-timezone's zone), and\n"
      << "the report shows its times in that zone. Exit status: 0, 1 when no log file could\n"
      << "be read, 2 for bad flags.\n\n"
      << "Examples:\n"
      << "  " << program << " report                      # the last hour\n"
      << "  " << program << " report --since=6h --top=20\n"
      << "  " << program
      << " report --since='2026-11-22 08:00:00' --until='2026-11-22 12:00:00' --format=json\n\n";
  ReportCommandLine command_line;
  out << command_line.shared.flags.SubcommandHelp(kReportScope, program);
  out << "\nWithout --exim.spool-dir the Exim spool is autodetected; --exim.queue-source=none\n"
      << "or --no-queue leaves the queue out. The Postfix queue is read from its queue files\n"
      << "(--postfix.queue-source=postqueue: with postqueue -j).\n"
      << "Diagnostics go to stderr; --log.level defaults to warn here.\n";
  return out.str();
}

std::string CommandsHelpText() {
  return "\nCommands:\n"
         "  report [<flags>]\n"
         "      Read the logs and the queue once and print what happened in a time window: top\n"
         "      auth users, IPs and local users, spoofing, failed logins, rejects, the queue by\n"
         "      owner, and the commands to act on the top offender. See 'report --help'.\n"
         "  respond [<flags>] | respond release ACCOUNT | respond status\n"
         "      Alertmanager webhook receiver that holds a hijacked account's mail (dry-run by\n"
         "      default, reversible, audited). See 'respond --help'.\n";
}

int RunReport(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
              const Clock& clock) {
  const std::string program = "mailrelay_exporter";
  ReportCommandLine command_line;
  if (Status s = command_line.Parse(argc, argv); !s.ok()) {
    err << program << " report: error: " << s.message() << "\n";
    return 2;
  }
  const CommonOptions& common = command_line.shared.options;
  const ReportOptions& options = command_line.report;
  if (common.help) {
    out << ReportHelpText(program);
    return 0;
  }
  SetLogLevel(command_line.shared.flags.Given("log.level") ? common.log_level : LogLevel::kWarn);
  const std::int64_t now = clock.UnixSeconds();

  StatusOr<Runtime> built = BuildRuntime(command_line.shared, RunMode::kReport, clock);
  if (!built.ok()) {
    err << program << " report: error: " << built.status().message() << "\n";
    return 2;
  }
  Runtime& rt = *built;
  const LogSpec& log = rt.logs.front();
  // Wall-clock --since/--until are read, and times shown, in the zone of the log's stamps.
  std::shared_ptr<const TimeZone> zone = log.time_zone ? log.time_zone : TimeZone::Local();
  auto window = ResolveWindow(options.since, options.until, now, *zone);
  if (!window.ok()) {
    err << program << " report: error: " << window.status().message() << "\n";
    return 2;
  }

  // --rules.file: reject mappings before the aggregator, counter rules tallied over the window.
  std::shared_ptr<const RuleSet> rules;
  if (!common.rules_file.empty()) {
    RulesOptions rules_options;
    rules_options.mtas = MtaNames(command_line.shared.modules());
    StatusOr<std::shared_ptr<const RuleSet>> loaded = LoadRules(common.rules_file, rules_options);
    if (!loaded.ok()) {
      err << program << " report: error: " << loaded.status().message() << "\n";
      return 2;
    }
    rules = *loaded;
  }
  std::unique_ptr<RuleTally> tally;
  std::unique_ptr<TallyRules> line_rules;
  if (rules) {
    tally = std::make_unique<RuleTally>(rules);
    line_rules = std::make_unique<TallyRules>(*tally, rules, std::string(rt.mta->name()),
                                              window->since, window->until);
  }

  ReportAggregator aggregator(IgnoreUsers(common.relay));
  WindowFilter in_window(*window, aggregator);
  DecoderContext decoder_context;
  decoder_context.reference_time = window->until;  // the year of syslog stamps: from --until
  LineProcessor processor(rt.mta->MakeDecoder(log, decoder_context), *rt.classifier, &in_window,
                          line_rules.get());
  ScanOptions scan_options;
  scan_options.window = *window;
  ScanResult scan = ScanLog(log.path, scan_options, processor);
  for (const auto& f : scan.logs) {
    if (f.status == "error")
      err << program << " report: warning: " << f.path << ": " << f.error << "\n";
  }
  if (scan.logs.empty()) {
    err << program << " report: error: no log at " << log.path
        << " (nor rotated files beside it); see --" << log.flag << "\n";
    if (!command_line.shared.mta_note().empty()) {
      err << program << " report: " << command_line.shared.mta_note() << "\n";
    } else if (!log.detect_note.empty()) {
      err << program << " report: " << log.detect_note << "\n";
    }
    return 1;
  }
  if (scan.files_read == 0 && scan.files_failed > 0) {
    err << program << " report: error: no log file could be read\n";
    return 1;
  }

  ReportData data;
  data.mta = std::string(rt.mta->name());
  data.window = *window;
  data.time_zone = zone;
  data.logs = std::move(scan.logs);
  data.lines_read = scan.lines_read;
  data.lines_unparsed = scan.lines_unparsed;
  data.lines_in_window = scan.lines_in_window;
  std::vector<std::shared_ptr<const QueueMessage>> queued;
  if (options.queue) data.queue = ReadQueue(*rt.mta, rt.context, &aggregator, &queued);
  if (data.queue && !data.queue->ok) {
    err << program << " report: warning: queue not read: " << data.queue->error << "\n";
  }
  aggregator.Finish(options.top, &data);
  if (tally) data.rules = tally->Totals(options.top);
  if (data.offender) {
    auto key = aggregator.TopOffender();
    ActionRequest request{key->identity, key->kind,
                          key->sender,   data.queue.has_value() && data.queue->ok,
                          common.rootfs, {}};
    // The offender's own queued messages, where the reader knows owners.
    if (key->kind != "queue_sender") {
      for (const auto& m : queued) {
        if (m->owner_label == key->identity) request.queue_ids.push_back(m->id);
      }
    }
    ActionPlan plan = rt.mta->SuggestActions(request);
    data.offender->commands = std::move(plan.commands);
    data.offender->note = std::move(plan.note);
  }

  out << (options.format == "json" ? RenderJson(data) : RenderText(data));
  out.flush();
  return out.good() ? 0 : 1;
}

}  // namespace mailrelay::report
