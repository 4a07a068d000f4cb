#include "mta/postfix/postfix_module.h"

#include <array>
#include <iterator>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/command_runner.h"
#include "common/passwd.h"
#include "mta/postfix/actions.h"
#include "mta/postfix/correlator.h"
#include "mta/postfix/log_parser.h"
#include "mta/postfix/postqueue_source.h"
#include "mta/postfix/queue_scanner.h"
#include "mta/postfix/respond_actions.h"

namespace mailrelay {

namespace {

constexpr const char* kLogs[] = {"/var/log/mail.log", "/var/log/maillog"};
constexpr const char* kTools[] = {"/usr/sbin/postconf", "/usr/bin/postconf"};

std::string List(const char* const* begin, const char* const* end) {
  std::string out;
  for (auto p = begin; p != end; ++p) out += (out.empty() ? "" : ", ") + std::string(*p);
  return out;
}

// The correlator's self-metrics (live mode only: the report has no registry).
class CorrelationMetrics {
 public:
  explicit CorrelationMetrics(prometheus::Registry& registry) {
    entries_ = &prometheus::BuildGauge()
                    .Name("mailrelay_postfix_correlation_entries")
                    .Help("Postfix queue ids held by the log correlator (messages in flight).")
                    .Register(registry)
                    .Add({});
    auto& dropped = prometheus::BuildCounter()
                        .Name("mailrelay_postfix_correlation_dropped_total")
                        .Help(
                            "Postfix queue ids the correlator gave up on: expired before "
                            "reaching the queue manager, pushed out by the size cap, or "
                            "queue-manager lines with no known source.")
                        .Register(registry);
    for (int i = 0; i < kCorrelationDropCount; ++i) {
      dropped_[static_cast<std::size_t>(i)] = &dropped.Add(
          {{"reason", std::string(CorrelationDropName(static_cast<CorrelationDrop>(i)))}});
    }
  }

  void Update(const PostfixCorrelator& correlator) {
    entries_->Set(static_cast<double>(correlator.size()));
    for (int i = 0; i < kCorrelationDropCount; ++i) {
      auto idx = static_cast<std::size_t>(i);
      std::uint64_t now = correlator.dropped(static_cast<CorrelationDrop>(i));
      if (now > reported_[idx]) {
        dropped_[idx]->Increment(static_cast<double>(now - reported_[idx]));
        reported_[idx] = now;
      }
    }
  }

 private:
  prometheus::Gauge* entries_ = nullptr;
  std::array<prometheus::Counter*, kCorrelationDropCount> dropped_{};
  std::array<std::uint64_t, kCorrelationDropCount> reported_{};
};

// Lines -> records -> Events completed across lines by queue id.
class PostfixDecoder : public LineDecoder {
 public:
  PostfixDecoder(const PostfixCorrelator::Options& options, const DecoderContext& ctx,
                 const std::shared_ptr<const TimeZone>& zone)
      : parser_(ctx.reference_time, zone),
        probe_(ctx.reference_time, zone),
        correlator_(options, SystemUidName) {
    if (ctx.registry != nullptr) metrics_ = std::make_unique<CorrelationMetrics>(*ctx.registry);
  }

  ParseStatus Decode(std::string_view line, std::int64_t* timestamp, const EventFn& emit) override {
    ParseStatus status = parser_.Parse(line, &record_);
    *timestamp = record_.timestamp;
    if (status == ParseStatus::kOk) correlator_.Add(record_, emit);
    return status;
  }
  std::int64_t LineTime(std::string_view line) override {
    PostfixRecord r;
    return probe_.Parse(line, &r) == ParseStatus::kOk ? r.timestamp : 0;
  }
  void SetReferenceTime(std::int64_t unix_seconds) override {
    parser_.SetReferenceTime(unix_seconds);
    probe_.SetReferenceTime(unix_seconds);
  }
  void UpdateGauges() override {
    if (metrics_) metrics_->Update(correlator_);
  }

 private:
  PostfixLogParser parser_;
  PostfixLogParser probe_;
  PostfixRecord record_;
  PostfixCorrelator correlator_;
  std::unique_ptr<CorrelationMetrics> metrics_;
};

class PostfixModule : public MtaModule {
 public:
  std::string_view name() const override { return "postfix"; }

  void RegisterFlags(FlagSet& flags) override {
    flags.Path("postfix.log", &log_,
               "Postfix syslog file (--mta=postfix). Autodetect tries /var/log/mail.log "
               "(Debian), then /var/log/maillog (RHEL), under --path.rootfs. Its BSD syslog "
               "time stamps are read in the exporter's local zone (TZ, else /etc/localtime).",
               kExporterScope | kReportScope, "autodetect");
    flags.Bool("postfix.journal", &journal_,
               "Read Postfix from the systemd journal (entries whose SYSLOG_IDENTIFIER starts "
               "with 'postfix') instead of a log file.",
               kExporterScope);
    flags.String("postfix.journal-path", &journal_path_,
                 "Journal directory or file to read with --postfix.journal. Empty: the local "
                 "system journal; with --path.rootfs, <rootfs>/var/log/journal.",
                 kExporterScope);
    flags.String("postfix.journal-cursor-file", &journal_cursor_file_,
                 "File keeping the journal cursor of the last entry read, so a restart "
                 "continues there. Empty: <--state.file>.postfix-journal-cursor when "
                 "--state.file is set, else none (start at the end of the journal).",
                 kExporterScope);
    flags.Choice("postfix.queue-source", &queue_source_, {"files", "postqueue", "none"},
                 "How the Postfix queue is read: files (the queue files themselves: who "
                 "submitted each message, by SASL user or local user; needs read access to the "
                 "postfix-owned queue, e.g. CAP_DAC_READ_SEARCH, docs/postfix-queue.md), "
                 "postqueue (run postqueue -j: no owners, no privilege) or none. Both run in "
                 "the background every --queue.refresh-interval.",
                 kAllScopes);
    flags.Path("postfix.queue-directory", &queue_directory_,
               "Postfix queue_directory for --postfix.queue-source=files. Autodetect: "
               "postconf -h queue_directory, else /var/spool/postfix. With --oneshot the queue "
               "files are read only when this flag is given.",
               kAllScopes, "autodetect");
    flags.Path("postfix.postqueue-binary", &postqueue_,
               "postqueue binary run as postqueue -j for --postfix.queue-source=postqueue. With "
               "--oneshot postqueue runs only when this flag is given.",
               kAllScopes, "autodetect");
    flags.Uint(
        "postfix.correlation-max-entries", &correlation_.max_entries,
        "Most Postfix queue ids the log correlator holds; beyond it the least recently "
        "seen is dropped (mailrelay_postfix_correlation_dropped_total{reason=\"capacity\"}).",
        kExporterScope | kReportScope, 1, 100000000);
    flags.Duration("postfix.correlation-ttl", &correlation_ttl_seconds_, "2h",
                   "A Postfix queue id not seen in the log for this long (log time) is "
                   "forgotten. Keep it above maximal_backoff_time so that retries of deferred "
                   "mail are not counted again.",
                   kExporterScope | kReportScope, 1, 1e9);
    flags.Path("postfix.config-directory", &config_directory_,
               "Postfix configuration directory respond passes as -c to postsuper, postmap and "
               "postfix reload. Default: Postfix's own (MAIL_CONFIG or its compiled-in one).",
               kRespondScope, "default");
    flags.Choice("postfix.hold-map-type", &hold_map_type_, {"hash", "lmdb", "cdb", "btree"},
                 "Table type respond builds from the hold list with postmap TYPE:LIST; main.cf's "
                 "check_sasl_access names the list with the same type.",
                 kRespondScope);
  }

  Presence Detect(const FlagSet& flags, const RootFs& root) const override {
    if (flags.Given("postfix.log") || journal_) return Presence::kRequested;
    for (const char* p : kLogs) {
      if (root.Exists(p)) return Presence::kLogging;
    }
    // Installed files, not the exporter's PATH: under --path.rootfs that is another system.
    for (const char* p : kTools) {
      if (root.Exists(p)) return Presence::kInstalled;
    }
    return Presence::kAbsent;
  }
  std::string DetectTargets() const override {
    return List(std::begin(kLogs), std::end(kLogs)) + ", " +
           List(std::begin(kTools), std::end(kTools));
  }

  StatusOr<std::vector<LogSpec>> Logs(const MtaContext& ctx) const override {
    LogSpec spec;
    spec.name = "postfix";
    spec.flag = journal_ ? "postfix.journal" : "postfix.log";
    if (journal_) {
      if (ctx.mode == RunMode::kReport) {
        return InvalidArgument("the report reads log files, not the journal (--postfix.log)");
      }
      JournalReader::Options journal;
      journal.path = journal_path_;
      // Under --path.rootfs the host's persistent journal, not the exporter's own.
      if (journal.path.empty() && !ctx.rootfs.is_host_root()) {
        journal.path = ctx.rootfs.Path("/var/log/journal");
      }
      journal.identifier_prefix = "postfix";
      journal.cursor_file = journal_cursor_file_;
      if (journal.cursor_file.empty() && !ctx.state_file.empty()) {
        journal.cursor_file = ctx.state_file + ".postfix-journal-cursor";
      }
      if (ctx.mode != RunMode::kLive) journal.cursor_file.clear();
      journal.start_at_end = ctx.start_at_end;
      journal.follow = ctx.mode == RunMode::kLive;
      spec.journal = std::move(journal);
      return std::vector<LogSpec>{std::move(spec)};  // its lines carry UTC times
    }
    // BSD syslog stamps carry no zone: the process's (an error when TZ names an unknown one).
    StatusOr<std::shared_ptr<const TimeZone>> zone = TimeZone::Process();
    if (!zone.ok()) return zone.status().WithContext("Postfix's syslog times are local time");
    spec.time_zone = *zone;
    if (!log_.empty()) {
      spec.path = log_;
    } else {
      bool found = true;
      spec.path = DetectLog(ctx.rootfs, &found);
      if (!found) {
        spec.detect_note = "no Postfix log found" + ctx.rootfs.Describe() + " (looked for " +
                           List(std::begin(kLogs), std::end(kLogs)) +
                           "): waiting for this one; --postfix.log names another, "
                           "--postfix.journal reads the journal";
      }
    }
    return std::vector<LogSpec>{std::move(spec)};
  }

  std::unique_ptr<LineDecoder> MakeDecoder(const LogSpec& log,
                                           const DecoderContext& ctx) const override {
    PostfixCorrelator::Options correlation = correlation_;
    correlation.ttl_seconds = static_cast<std::int64_t>(correlation_ttl_seconds_);
    return std::make_unique<PostfixDecoder>(correlation, ctx, log.time_zone);
  }

  // postqueue is found in the exporter's own PATH, not under --path.rootfs: it is run here. The
  // queue directory is a path like the log: its default goes through ctx.rootfs, a path given
  // in its flag is taken as it is.
  StatusOr<QueueReader> MakeQueueReader(const MtaContext& ctx) const override {
    QueueReader reader;
    if (queue_source_ == "none") return reader;
    if (queue_source_ == "files") {
      // One-shot runs (golden tests, backfills) read the queue only when asked to.
      if (ctx.mode == RunMode::kOneshot && queue_directory_.empty()) return reader;
      PostfixQueueScanner::Options o;
      o.queue_directory = QueueDirectory(ctx.rootfs);
      o.max_files = ctx.queue.max_files;
      o.clock = ctx.clock;
      reader.description = "queue files " + o.queue_directory;
      reader.source = std::make_unique<PostfixQueueScanner>(std::move(o));
      reader.background = true;  // a first scan of a large queue takes seconds
      reader.owners = true;
      return reader;
    }
    if (ctx.mode == RunMode::kOneshot && postqueue_.empty()) return reader;
    std::string binary = postqueue_.empty() ? FindExecutable({"postqueue"}) : postqueue_;
    reader.description = (binary.empty() ? std::string("postqueue") : binary) + " -j";
    if (binary.empty()) {
      if (ctx.mode != RunMode::kLive) {
        return NotFound("postqueue not found (--postfix.postqueue-binary)");
      }
      binary = "postqueue";  // each scan counts a `command` error until it appears
    }
    CommandOptions c;
    c.timeout_seconds = ctx.queue.command_timeout_seconds;
    reader.source = std::make_unique<PostqueueSource>(std::vector<std::string>{binary, "-j"}, c);
    reader.background = true;
    return reader;
  }

  ActionPlan SuggestActions(const ActionRequest& request) const override {
    // postsuper and postcat find the instance as the admin's shell does (MAIL_CONFIG or the
    // default configuration directory).
    return postfix::SuggestActions(request, "");
  }

  std::vector<std::string> ServiceAccounts() const override {
    return postfix::PostfixServiceAccounts();
  }

  bool IsHeld(const QueueMessage& message) const override { return message.queue == "hold"; }

  StatusOr<std::vector<Argv>> QueueHoldCommands(const std::vector<std::string>& ids,
                                                bool hold) const override {
    std::string postsuper = FindExecutable({"postsuper"});
    if (postsuper.empty()) return NotFound("postsuper not found (PATH, /usr/sbin)");
    return postfix::HoldCommands(postsuper, config_directory_, ids, hold);
  }

  StatusOr<HoldListFollowers> FollowHoldList(
      const std::string& path, const std::vector<std::string>& accounts) const override {
    postfix::FollowerTools tools;
    tools.postmap = FindExecutable({"postmap"});
    tools.postfix = FindExecutable({"postfix"});
    if (tools.postmap.empty() || tools.postfix.empty()) {
      return NotFound("postmap or postfix not found (PATH, /usr/sbin)");
    }
    tools.config_directory = config_directory_;
    tools.map_type = hold_map_type_;
    return postfix::Followers(tools, path, accounts, LookupUserUid);
  }

  std::vector<Argv> AccountHoldCommands(const std::string& /*account*/,
                                        bool /*hold*/) const override {
    return {};
  }

 private:
  // --postfix.queue-directory (as given), else what postconf says (of --postfix.config-directory
  // when given), else Postfix's default. Under another --path.rootfs postconf would read this
  // system's configuration, not the host's: the default path under the root is taken there.
  std::string QueueDirectory(const RootFs& root) const {
    if (!queue_directory_.empty()) return queue_directory_;
    if (root.is_host_root()) {
      std::string postconf = FindExecutable({"postconf"});
      if (!postconf.empty()) {
        CommandOptions c;
        c.timeout_seconds = 5;
        std::vector<std::string> argv = {postconf, "-h", "queue_directory"};
        if (!config_directory_.empty()) argv.insert(argv.begin() + 1, {"-c", config_directory_});
        CommandResult r = RunCommand(argv, c);
        std::string dir = r.output.substr(0, r.output.find('\n'));
        if (r.status == CommandResult::Status::kOk && !dir.empty() && dir[0] == '/') return dir;
      }
    }
    return root.Path("/var/spool/postfix");
  }

  // The first existing log under the root, else (*found = false) the Debian one, waited for.
  static std::string DetectLog(const RootFs& root, bool* found) {
    for (const char* p : kLogs) {
      if (root.Exists(p)) return root.Path(p);
    }
    *found = false;
    return root.Path(kLogs[0]);
  }

  std::string log_;
  bool journal_ = false;
  std::string journal_path_;
  std::string journal_cursor_file_;
  std::string queue_source_ = "files";
  std::string queue_directory_;
  std::string postqueue_;
  PostfixCorrelator::Options correlation_;
  double correlation_ttl_seconds_ = 7200;
  std::string config_directory_;
  std::string hold_map_type_ = "hash";
};

}  // namespace

std::unique_ptr<MtaModule> MakePostfixModule() { return std::make_unique<PostfixModule>(); }

}  // namespace mailrelay
