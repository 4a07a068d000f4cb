#include "app/command_line.h"

#include "common/rootfs.h"
#include "common/text.h"
#include "mta/registry.h"

namespace mailrelay {

namespace {

constexpr unsigned kExporter = kExporterScope;
constexpr unsigned kExporterAndReport = kExporterScope | kReportScope;

void DeclareCommonFlags(CommonOptions* o, const std::vector<std::string>& mta_names, FlagSet* f) {
  f->Path("web.listen-address", &o->web.listen_address,
          "Address to listen on for the web interface and telemetry ([host]:port).",
          kExporterScope | kRespondScope);
  f->Add({"web.telemetry-path", "/metrics", "Path under which to expose metrics.", kExporter, false,
          [o](const std::string& v) {
            if (v.empty() || v[0] != '/') {
              return InvalidArgument("invalid value '" + v +
                                     "' for flag --web.telemetry-path (a path starting with /)");
            }
            o->web.telemetry_path = v;
            return Status::Ok();
          }});
  f->String("web.config.file", &o->web.config_file,
            "Path to a web configuration file (Prometheus exporter-toolkit format) enabling TLS "
            "and/or basic authentication on every endpoint. Re-read on SIGHUP.",
            kExporterScope | kRespondScope);

  std::vector<std::string> mta_choices = {"auto"};
  std::string names;
  for (const auto& n : mta_names) {
    mta_choices.push_back(n);
    names += (names.empty() ? "" : ", ") + n;
  }
  f->Choice("mta", &o->mta, mta_choices,
            "Which MTA's logs and queue to read: " + names +
                ", or auto (the first whose log is named by its flags; else the first whose log "
                "or tools exist on this host, in that order; else " +
                mta_names.front() + ").",
            kAllScopes);

  f->Path("path.rootfs", &o->rootfs,
          "Root of the host's file system, as node_exporter's flag: where the exporter looks "
          "for everything it autodetects (the MTA's logs, spool and installed programs, the "
          "relayhosts files, zone files), e.g. /host in a container that mounts the host's / "
          "there. Paths given in flags are used as they are; queue commands (exim -bp, "
          "postqueue) are run from the exporter's own PATH.",
          kAllScopes);
  f->Bool("tail.from-beginning", &o->tail.from_beginning,
          "Read logs from their beginning instead of from their end at startup.", kExporter);
  f->DurationMs("tail.poll-interval", &o->tail.poll_interval_ms, "250ms",
                "Longest wait between checks of the logs when no inotify event arrives.", kExporter,
                0, 60);
  f->Bool("oneshot", &o->tail.oneshot,
          "Read the logs from beginning to end, print the metrics to stdout and exit.", kExporter);
  f->String("state.file", &o->tail.state_file,
            "File in which the read position of every log is saved (atomically, every "
            "--state.interval and at shutdown), so that a restart continues exactly where the "
            "last run stopped, also across a rotation meanwhile. Empty: start at the end of the "
            "logs like tail -F. Not used with --oneshot.",
            kExporter);
  f->DurationMs("state.interval", &o->tail.state_interval_ms, "5s",
                "How often the read positions are saved to --state.file.", kExporter, 0, 3600);

  f->String("relay.local-networks", &o->relay.local_networks,
            "Comma-separated CIDRs whose clients are classed localhostrelay (lfd's local IPs).",
            kExporterAndReport);
  f->Bool("relay.include-interface-addresses", &o->relay.include_interface_addresses,
          "Also treat the addresses of local network interfaces as local (as lfd does).",
          kExporterAndReport);
  f->String("relay.relayhosts", &o->relay.relayhosts,
            "Comma-separated files of IPs (one per line) allowed to relay after POP "
            "authentication; an unauthenticated relay from them is poprelay. Re-read on change. "
            "The default files are looked up under --path.rootfs.",
            kExporterAndReport);
  f->String("relay.ignore-users", &o->relay.ignore_users,
            "Comma-separated local users whose submissions are not relaying (the MTA's own "
            "bounces and DSNs), like lfd's csf.mignore.",
            kExporterAndReport);

  f->Uint("metrics.max-series-per-family", &o->metrics.max_series_per_family,
          "Cap on live series in each per-user/per-IP family; beyond it new keys are counted "
          "under __overflow__.",
          kExporter, 1, 1000000);
  f->Duration("metrics.series-idle-timeout", &o->metrics.series_idle_timeout_seconds, "2h",
              "Per-user/per-IP series not updated for this long are dropped.", kExporter, 1, 1e9);

  f->Uint("queue.top-k", &o->queue.top_k,
          "Label values kept in each per-user/per-sender queue family (the rest is summed "
          "under __other__); 0 disables those families.",
          kExporter, 0, 10000);
  f->Uint("queue.max-files", &o->queue.max_files,
          "Most queue files (Exim spool -H files) opened and parsed per scan; messages left "
          "over are read at the next scans (mailrelay_queue_scrape_truncated is 1 meanwhile).",
          kAllScopes, 1, 100000000);
  f->Uint("queue.scan-threads", &o->queue.scan_threads,
          "Most threads that read and parse queue files in one scan (one per 1024 files to "
          "read, up to this many): 0 = the CPUs, at most 4; 1 = the scanning thread alone.",
          kAllScopes, 0, 64);
  f->Bool("queue.io-uring", &o->queue.io_uring,
          "Open, read and close queue files in batches through io_uring (fewer system calls). "
          "Where the kernel or a seccomp profile refuses io_uring the scanner uses plain "
          "system calls by itself; false always does.",
          kAllScopes);
  f->Duration("queue.command-timeout", &o->queue.command_timeout_seconds, "10s",
              "Longest run of a queue command (exim -bp, postqueue -j); it is killed past it.",
              kAllScopes, 0.001, 3600);
  f->Duration("queue.refresh-interval", &o->queue.refresh_interval_seconds, "15s",
              "Time between two background queue scans: the Postfix queue files and the queue "
              "commands (exim -bp, postqueue -j). A scrape serves the last result "
              "(mailrelay_queue_snapshot_age_seconds) and never waits for one.",
              kExporter, 0.1, 86400);

  f->String("rules.file", &o->rules_file,
            "YAML file of user rules (docs/rules.md): the operator's own reject texts mapped to "
            "the reject reasons, and extra counters from log lines (re2 patterns with named "
            "captures as labels, capped and expiring). A bad rule stops startup with its "
            "position; SIGHUP re-reads the file and keeps the old rules when the new ones are "
            "bad.",
            kExporterAndReport);
  f->Add({"log.level", "info",
          "Only log messages with the given severity or above: debug, info, warn, error.",
          kAllScopes, false, [o](const std::string& v) {
            if (!ParseLogLevel(v, &o->log_level)) {
              return InvalidArgument("invalid value '" + v +
                                     "' for flag --log.level (debug, info, warn or error)");
            }
            return Status::Ok();
          }});
}

}  // namespace

CommandLine::CommandLine() : modules_(MakeMtaModules()) {
  DeclareCommonFlags(&options, MtaNames(modules_), &flags);
  for (auto& m : modules_) m->RegisterFlags(flags);
  flags.Bool("help", &options.help, "Show this help and exit.", kAllScopes);
  flags.Bool("version", &options.version, "Show version and build information and exit.",
             kExporterScope);
}

Status CommandLine::Parse(int argc, const char* const* argv, FlagScope scope, int first) {
  if (Status s = flags.Parse(argc, argv, scope, first); !s.ok()) return s;
  RootFs root(options.rootfs);
  // The default relayhosts files are the host's.
  if (!root.is_host_root() && !flags.Given("relay.relayhosts")) {
    std::string files;
    for (const auto& f : SplitList(options.relay.relayhosts, ',')) {
      files += (files.empty() ? "" : ",") + root.Path(f);
    }
    options.relay.relayhosts = files;
  }
  mta_note_.clear();
  StatusOr<MtaModule*> mta = ResolveMta(options.mta, modules_, flags, root, &mta_note_);
  if (!mta.ok()) return mta.status();
  mta_ = *mta;
  return Status::Ok();
}

}  // namespace mailrelay
