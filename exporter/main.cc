// mailrelay_exporter: flags -> config -> wiring. Everything testable lives in mailrelay_core.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "app/config.h"
#include "app/log_pipeline.h"
#include "app/postfix_setup.h"
#include "app/reload.h"
#include "app/signals.h"
#include "classify/relay_classifier.h"
#include "common/logging.h"
#include "common/net.h"
#include "common/text.h"
#include "http/http_server.h"
#include "http/web_config.h"
#include "metrics/bounded_counters.h"
#include "metrics/mail_metrics.h"
#include "queue/queue_factory.h"
#include "report/report_command.h"
#include "version.h"

int main(int argc, char** argv) {
  using namespace mailrelay;
#ifdef M_ARENA_MAX
  // glibc gives every thread that allocates its own arena and keeps their memory: each of the
  // HTTP worker threads that renders a /metrics page would hold on to a few MiB (60 MiB RSS
  // with 10k series instead of 20). Two arenas are plenty: the log thread allocates next to
  // nothing per line (bench/README.md, "Log throughput").
  mallopt(M_ARENA_MAX, 2);
#endif
  if (argc > 1 && std::string(argv[1]) == "report") {
    return report::RunReport(argc - 1, argv + 1, std::cout, std::cerr);
  }
  Config config;
  std::string error;
  if (!ParseFlags(argc, argv, &config, &error)) {
    std::fprintf(stderr, "mailrelay_exporter: error: %s\n", error.c_str());
    return 2;
  }
  if (config.show_help) {
    std::cout << HelpText("mailrelay_exporter") << report::CommandsHelpText();
    return 0;
  }
  if (config.show_version) {
    std::cout << "mailrelay_exporter, version " << MAILRELAY_VERSION << " (revision "
              << MAILRELAY_REVISION << ")\n  build date: " << __DATE__
              << "\n  compiler: " << __VERSION__ << "\n";
    return 0;
  }
  SetLogLevel(config.log_level);

  RelayPolicy policy;
  for (const auto& cidr : SplitList(config.local_networks, ',')) {
    if (!policy.local_networks.Add(cidr)) {
      std::fprintf(stderr, "mailrelay_exporter: error: bad CIDR '%s' in --relay.local-networks\n",
                   cidr.c_str());
      return 2;
    }
  }
  if (config.include_interface_addresses) {
    for (const auto& ip : LocalInterfaceAddresses()) policy.local_networks.AddAddress(ip);
  }
  policy.relayhosts_files = SplitList(config.relayhosts, ',');
  for (const auto& u : SplitList(config.ignore_users, ',')) policy.ignore_users.insert(u);
  RelayClassifier classifier(std::move(policy));

  BoundedLimits limits;
  limits.max_series = config.max_series_per_family;
  limits.idle_timeout_seconds = static_cast<std::int64_t>(config.series_idle_timeout_seconds);
  auto registry = std::make_shared<prometheus::Registry>();
  // Scrapes render the registry through `exposure`: live, a new per-user/per-IP series shows 0
  // in one scrape before its first count (docs/metrics.md); --oneshot renders once, exactly.
  auto exposure = std::make_shared<ExposureTracker>(registry);
  if (!config.oneshot) limits.exposure = exposure.get();
  MailMetrics metrics(registry, limits, BuildInfo{MAILRELAY_VERSION, MAILRELAY_REVISION});
  // SIGHUP reloads and their mailrelay_config_* metrics: live mode only (--oneshot output stays
  // deterministic).
  std::unique_ptr<ConfigReloader> reloader;
  if (!config.oneshot) reloader = std::make_unique<ConfigReloader>(*registry);

  const bool postfix = ResolveMta(config) == "postfix";
  std::string mainlog = config.exim_mainlog.empty() ? DetectEximMainlog() : config.exim_mainlog;
  std::string rejectlog =
      config.exim_rejectlog.empty() ? RejectlogFor(mainlog) : config.exim_rejectlog;
  if (rejectlog == "none") rejectlog.clear();

  FileTailer::Options tail_options;
  tail_options.start_at_end = !(config.tail_from_beginning || config.oneshot);
  LogPipeline pipeline(classifier, metrics, config.tail_poll_interval_ms,
                       config.series_idle_timeout_seconds);
  std::string postfix_log;
  if (postfix) {
    postfix_log = AddPostfixLogs(config, tail_options, &pipeline);
  } else {
    pipeline.AddLog("exim_mainlog", mainlog, LogRole::kEximMain, tail_options);
    if (!rejectlog.empty()) {
      pipeline.AddLog("exim_rejectlog", rejectlog, LogRole::kEximReject, tail_options);
    }
  }

  if (!config.state_file.empty() && !config.oneshot) {
    pipeline.EnableState(config.state_file, config.state_interval_ms);
  }

  HttpServer::Options http_options;
  http_options.listen_address = config.listen_address;
  http_options.telemetry_path = config.telemetry_path;
  http_options.version = MAILRELAY_VERSION;
  http_options.revision = MAILRELAY_REVISION;
  if (!config.web_config_file.empty() && !config.oneshot &&
      !LoadWebConfig(config.web_config_file, &http_options.web_config, &error)) {
    std::fprintf(stderr, "mailrelay_exporter: error: %s\n", error.c_str());
    return 2;
  }
  HttpServer http(http_options, [&pipeline](std::string* why) { return pipeline.Ready(why); });
  http.AddCollectable(exposure);

  // Queue state, built at every scrape. In --oneshot only with an explicit --exim.spool-dir,
  // so that log-only runs (golden tests) stay queue-free. main keeps the shared_ptr alive.
  // Postfix: postqueue -j (in --oneshot only with an explicit --postfix.postqueue-binary).
  std::shared_ptr<QueueCollector> queue_collector;
  if (postfix) {
    if (!config.oneshot || !config.postfix_postqueue_binary.empty()) {
      queue_collector = MakePostfixQueue(config);
      http.AddCollectable(queue_collector);
    }
  } else if (!config.oneshot || !config.exim_spool_dir.empty()) {
    EximQueueSettings queue_settings;
    queue_settings.source = config.exim_queue_source;
    queue_settings.input_dir =
        EximInputDir(config.exim_spool_dir.empty() ? DetectEximSpoolDir() : config.exim_spool_dir);
    queue_settings.exim_binary =
        config.exim_binary.empty() ? DetectEximBinary() : config.exim_binary;
    queue_settings.top_k = config.queue_top_k;
    queue_settings.max_files = config.queue_max_files;
    queue_settings.scan_threads = config.queue_scan_threads;
    queue_settings.io_uring = config.queue_io_uring;
    queue_settings.command_timeout_seconds = config.queue_command_timeout_seconds;
    queue_collector = MakeEximQueueCollector(queue_settings);
    if (queue_collector) http.AddCollectable(queue_collector);
  }

  if (config.oneshot) {
    pipeline.RunOnce();
    std::cout << http.RenderMetrics();
    return std::cout.good() ? 0 : 1;
  }

  SignalWaiter signals;  // SIGTERM/SIGINT stop, SIGHUP reloads
  if (!http.Start(&error)) {
    std::fprintf(stderr, "mailrelay_exporter: error: %s\n", error.c_str());
    return 1;
  }
  Log(LogLevel::kInfo, "starting mailrelay_exporter",
      {{"version", MAILRELAY_VERSION}, {"revision", MAILRELAY_REVISION}});
  Log(LogLevel::kInfo, "listening",
      {{"address", config.listen_address}, {"telemetry_path", config.telemetry_path}});
  if (postfix) {
    Log(LogLevel::kInfo, "reading logs", {{"mta", "postfix"}, {"postfix", postfix_log}});
  } else {
    Log(LogLevel::kInfo, "reading logs", {{"mainlog", mainlog}, {"rejectlog", rejectlog}});
  }
  pipeline.Start();
  reloader->Attach(config.web_config_file, &http, &pipeline);
  while (signals.Wait() == SignalWaiter::Event::kReload) reloader->Reload();
  Log(LogLevel::kInfo, "shutting down");
  pipeline.Stop();
  http.Stop();
  return 0;
}
