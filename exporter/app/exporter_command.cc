#include "app/exporter_command.h"

#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "app/command_line.h"
#include "app/reload.h"
#include "app/runtime.h"
#include "app/signals.h"
#include "common/logging.h"
#include "http/http_server.h"
#include "http/web_config.h"
#include "metrics/bounded_counters.h"
#include "metrics/mail_metrics.h"
#include "mta/registry.h"
#include "pipeline/log_pipeline.h"
#include "queue/queue_collector.h"
#include "report/report_command.h"
#include "rules/rule_counters.h"
#include "rules/rule_set.h"
#include "version.h"

namespace mailrelay {

namespace {

std::string HelpHeader() {
  std::string text =
      "usage: mailrelay_exporter [<flags>]\n"
      "       mailrelay_exporter report [<flags>]\n"
      "       mailrelay_exporter respond [<flags>]\n\n"
      "Prometheus exporter for mail relays: follows the MTA's logs, classifies every\n"
      "accepted message into lfd's relay classes and serves the counts on /metrics.\n\n";
#if defined(MAILRELAY_STATIC_BUILD)
  text +=
      "This is the statically linked release binary; it uses nothing of the host but the\n"
      "kernel, so: --web.listen-address takes a numeric address (:port, 127.0.0.1:port), no\n"
      "host name (no NSS); user names for Postfix's uid= come from /etc/passwd only;\n"
      "--postfix.journal reads the host's `journalctl -o export` (not libsystemd); and time\n"
      "zones (TZ, --exim.log-timezone) come from the host's /usr/share/zoneinfo or $TZDIR:\n"
      "a zone whose file is missing there is an error at startup.\n\n";
#endif
  return text + "Flags:\n";
}

}  // namespace

std::string ExporterHelpText() {
  CommandLine command_line;
  return HelpHeader() + command_line.flags.Help(kExporterScope) + report::CommandsHelpText();
}

int RunExporter(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                const Clock& clock) {
  CommandLine command_line;
  if (Status s = command_line.Parse(argc, argv, kExporterScope); !s.ok()) {
    err << "mailrelay_exporter: error: " << s.message() << "\n";
    return 2;
  }
  const CommonOptions& options = command_line.options;
  if (options.help) {
    out << HelpHeader() << command_line.flags.Help(kExporterScope) << report::CommandsHelpText();
    return 0;
  }
  if (options.version) {
    out << "mailrelay_exporter, version " << MAILRELAY_VERSION << " (revision "
        << MAILRELAY_REVISION << ")\n  build date: " << __DATE__ << "\n  compiler: " << __VERSION__
        << "\n";
    return 0;
  }
  SetLogLevel(options.log_level);
  const bool oneshot = options.tail.oneshot;

  StatusOr<Runtime> built =
      BuildRuntime(command_line, oneshot ? RunMode::kOneshot : RunMode::kLive, clock);
  if (!built.ok()) {
    err << "mailrelay_exporter: error: " << built.status().message() << "\n";
    return 2;
  }
  Runtime& rt = *built;

  BoundedLimits limits;
  limits.max_series = options.metrics.max_series_per_family;
  limits.idle_timeout_seconds =
      static_cast<std::int64_t>(options.metrics.series_idle_timeout_seconds);
  auto registry = std::make_shared<prometheus::Registry>();
  // Scrapes render the registry through `exposure`: live, a new per-user/per-IP series shows 0
  // in one scrape before its first count (docs/metrics.md); --oneshot renders once, exactly.
  auto exposure = std::make_shared<ExposureTracker>(registry);
  if (!oneshot) limits.exposure = exposure.get();
  MailMetrics metrics(registry, limits, BuildInfo{MAILRELAY_VERSION, MAILRELAY_REVISION});
  // SIGHUP reloads and their mailrelay_config_* metrics: live mode only (--oneshot output stays
  // deterministic).
  std::unique_ptr<ConfigReloader> reloader;
  if (!oneshot) reloader = std::make_unique<ConfigReloader>(*registry, clock);

  // --rules.file: loaded before anything starts; a bad rule stops the exporter here.
  RulesOptions rules_options;
  rules_options.mtas = MtaNames(command_line.modules());
  rules_options.limits = limits;
  std::unique_ptr<RuleCounters> rule_counters;
  if (!options.rules_file.empty()) {
    StatusOr<std::shared_ptr<const RuleSet>> rules = LoadRules(options.rules_file, rules_options);
    if (!rules.ok()) {
      err << "mailrelay_exporter: error: " << rules.status().message() << "\n";
      return 2;
    }
    rule_counters = std::make_unique<RuleCounters>(*registry, metrics.overflow_family());
    if (Status set = rule_counters->SetRules(*rules); !set.ok()) {
      err << "mailrelay_exporter: error: " << set.message() << "\n";
      return 2;
    }
  }

  FileTailer::Options tail_options;
  tail_options.start_at_end = rt.context.start_at_end;
  LogPipeline pipeline(
      *rt.classifier, metrics, clock,
      {options.tail.poll_interval_ms, options.metrics.series_idle_timeout_seconds});
  if (rule_counters) pipeline.SetRules(rule_counters.get(), std::string(rt.mta->name()));
  DecoderContext decoder_context;
  decoder_context.registry = registry.get();
  decoder_context.reference_time = clock.UnixSeconds();
  for (const LogSpec& log : rt.logs) {
    pipeline.AddLog(log, rt.mta->MakeDecoder(log, decoder_context), tail_options);
  }
  if (!options.tail.state_file.empty() && !oneshot) {
    pipeline.EnableState(options.tail.state_file, options.tail.state_interval_ms);
  }

  HttpServer::Options http_options;
  http_options.listen_address = options.web.listen_address;
  http_options.telemetry_path = options.web.telemetry_path;
  http_options.version = MAILRELAY_VERSION;
  http_options.revision = MAILRELAY_REVISION;
  if (!options.web.config_file.empty() && !oneshot) {
    StatusOr<WebConfig> web_config = LoadWebConfig(options.web.config_file);
    if (!web_config.ok()) {
      err << "mailrelay_exporter: error: " << web_config.status().message() << "\n";
      return 2;
    }
    http_options.web_config = std::move(web_config).value();
  }
  // Ready once every log is open and the queue (when read) could be read; else the reasons.
  std::shared_ptr<QueueCollector> queue_collector;
  auto ready = [&pipeline, &queue_collector](std::string* why) {
    bool ok = pipeline.Ready(why);
    std::string queue_why;
    if (queue_collector && !queue_collector->Ready(&queue_why)) {
      if (!why->empty()) *why += "; ";
      *why += "queue: " + queue_why;
      ok = false;
    }
    return ok;
  };
  HttpServer http(http_options, ready);
  http.AddCollectable(exposure);

  // Queue state: the module's reader; slow ones refresh in the background.
  StatusOr<QueueReader> queue = rt.mta->MakeQueueReader(rt.context);
  if (!queue.ok()) {
    err << "mailrelay_exporter: error: " << queue.status().message() << "\n";
    return 2;
  }
  if (queue->source) {
    Log(LogLevel::kInfo, "reading the queue", {{"from", queue->description}});
    QueueCollector::Options queue_options;
    queue_options.top_k = options.queue.top_k;
    // One-shot prints one result: read it at the (only) scrape.
    queue_options.background = queue->background && !oneshot;
    queue_options.refresh_interval_seconds = options.queue.refresh_interval_seconds;
    queue_options.clock = &clock;
    queue_collector =
        std::make_shared<QueueCollector>(std::move(queue->source), std::move(queue_options));
    http.AddCollectable(queue_collector);
  }

  if (oneshot) {
    pipeline.RunOnce();
    out << http.RenderMetrics();
    return out.good() ? 0 : 1;
  }

  SignalWaiter signals;  // SIGTERM/SIGINT stop, SIGHUP reloads
  if (Status started = http.Start(); !started.ok()) {
    err << "mailrelay_exporter: error: " << started.message() << "\n";
    return 1;
  }
  Log(LogLevel::kInfo, "starting mailrelay_exporter",
      {{"version", MAILRELAY_VERSION}, {"revision", MAILRELAY_REVISION}});
  Log(LogLevel::kInfo, "listening",
      {{"address", options.web.listen_address}, {"telemetry_path", options.web.telemetry_path}});
  if (!command_line.mta_note().empty()) {
    Log(LogLevel::kWarn, "no MTA found",
        {{"mta", rt.mta->name()}, {"why", command_line.mta_note()}});
  }
  for (const LogSpec& log : rt.logs) {
    Log(LogLevel::kInfo, "reading log",
        {{"mta", rt.mta->name()},
         {"log", log.name},
         {"path", log.journal ? "journal:" + log.journal->path : log.path},
         {"time_zone", log.time_zone ? log.time_zone->name() : TimeZone::Local()->name()}});
    if (!log.detect_note.empty()) {
      Log(LogLevel::kWarn, "log not found",
          {{"log", log.name}, {"path", log.path}, {"why", log.detect_note}});
    }
  }
  pipeline.Start();
  reloader->Attach(options.web.config_file, &http, &pipeline);
  if (rule_counters) {
    reloader->AttachRules(options.rules_file, rules_options, rule_counters.get());
  }
  while (signals.Wait() == SignalWaiter::Event::kReload) reloader->Reload();
  Log(LogLevel::kInfo, "shutting down");
  pipeline.Stop();
  http.Stop();
  return 0;
}

}  // namespace mailrelay
