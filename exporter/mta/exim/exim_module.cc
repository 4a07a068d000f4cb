#include "mta/exim/exim_module.h"

#include <unistd.h>

#include <cerrno>

#include "common/logging.h"
#include "mta/exim/actions.h"
#include "mta/exim/bp_source.h"
#include "mta/exim/log_parser.h"
#include "mta/exim/paths.h"
#include "mta/exim/respond_actions.h"
#include "mta/exim/spool_scanner.h"

namespace mailrelay {

namespace {

enum LogRole { kMainlog = 0, kRejectlog = 1 };

// One line -> at most one Event.
class EximDecoder : public LineDecoder {
 public:
  EximDecoder(std::int64_t reference_time, const std::shared_ptr<const TimeZone>& zone)
      : parser_(reference_time, zone), probe_(reference_time, zone) {}

  ParseStatus Decode(std::string_view line, std::int64_t* timestamp, const EventFn& emit) override {
    ParseStatus status = parser_.Parse(line, &ev_);  // resets ev_
    *timestamp = ev_.timestamp;
    if (status == ParseStatus::kOk && ev_.type != EventType::kNone) emit(ev_);
    return status;
  }
  std::int64_t LineTime(std::string_view line) override {
    Event ev;
    probe_.Parse(line, &ev);
    return ev.timestamp;
  }
  void SetReferenceTime(std::int64_t unix_seconds) override {
    parser_.SetReferenceTime(unix_seconds);
    probe_.SetReferenceTime(unix_seconds);
  }

 private:
  EximLogParser parser_;
  EximLogParser probe_;  // LineTime() leaves parser_'s state alone
  Event ev_;             // reused: the parser resets it, no second initialisation per line
};

class EximModule : public MtaModule {
 public:
  std::string_view name() const override { return "exim"; }

  void RegisterFlags(FlagSet& flags) override {
    flags.Path("exim.mainlog", &mainlog_,
               "Exim main log. Autodetect tries /var/log/exim_mainlog (cPanel), "
               "/var/log/exim/mainlog (DirectAdmin), /var/log/exim4/mainlog (Debian), "
               "/var/log/exim/main.log (Fedora).",
               kExporterScope | kReportScope, "autodetect");
    flags.Path("exim.rejectlog", &rejectlog_,
               "Exim reject log ('none' to not read it). Autodetect: the mainlog's sibling.",
               kExporterScope, "autodetect");
    flags.Path("exim.spool-dir", &spool_dir_,
               "Exim spool input directory whose -H files are read for the queue metrics "
               "(a spool directory holding input/ is accepted too). Autodetect tries "
               "/var/spool/exim/input (cPanel), then /var/spool/exim4/input (Debian). With "
               "--oneshot the queue is read only when this flag is given.",
               kAllScopes, "autodetect");
    flags.Choice("exim.queue-source", &queue_source_, {"spool", "bp", "none"},
                 "How the Exim queue is read: spool (parse -H files, cached), bp (run exim -bp "
                 "in the background every --queue.refresh-interval) or none (no queue metrics).",
                 kExporterScope | kReportScope);
    flags.Path("exim.binary", &binary_,
               "Exim binary run for --exim.queue-source=bp (and by respond for exim -Mf/-Mt). "
               "Autodetect: exim, then exim4, in PATH and /usr/sbin (the exporter's own, not "
               "under --path.rootfs).",
               kAllScopes, "autodetect");
    flags.String("exim.log-timezone", &log_timezone_,
                 "Time zone of the Exim log's time stamps, which carry no UTC offset unless "
                 "Exim's log_timezone is set: an IANA name such as Europe/Berlin, read from "
                 "$TZDIR or /usr/share/zoneinfo (then <--path.rootfs>/usr/share/zoneinfo). Set "
                 "it where the exporter runs in another zone than Exim (a container without "
                 "the host's /etc/localtime, a central host). Empty: the exporter's own local "
                 "zone (TZ, else /etc/localtime, else UTC). A zone that cannot be found is an "
                 "error at startup.",
                 kExporterScope | kReportScope);
    flags.Path("exim.config-file", &config_file_,
               "Exim configuration file respond passes to exim -Mf/-Mt as -C (as root, Exim "
               "keeps its privilege with -C). Default: Exim's compiled-in configuration.",
               kRespondScope, "none");
    flags.Path("exim.whmapi1-binary", &whmapi1_,
               "cPanel's whmapi1, run by respond as whmapi1 hold_outgoing_email / "
               "release_outgoing_email user=ACCOUNT for accounts that are cPanel accounts "
               "(/var/cpanel/users/ACCOUNT exists); 'none' never runs it.",
               kRespondScope);
  }

  Presence Detect(const FlagSet& flags, const RootFs& root) const override {
    if (flags.Given("exim.mainlog")) return Presence::kRequested;
    if (exim::AnyMainlogExists(root)) return Presence::kLogging;
    return exim::EximInstalled(root) ? Presence::kInstalled : Presence::kAbsent;
  }
  std::string DetectTargets() const override {
    return exim::MainlogCandidates() + ", " + exim::InstalledCandidates();
  }

  StatusOr<std::vector<LogSpec>> Logs(const MtaContext& ctx) const override {
    StatusOr<std::shared_ptr<const TimeZone>> zone = LogTimeZone(ctx.rootfs);
    if (!zone.ok()) return zone.status();
    bool found = true;
    std::string mainlog = mainlog_.empty() ? exim::DetectMainlog(ctx.rootfs, &found) : mainlog_;
    std::vector<LogSpec> logs;
    logs.push_back(
        {"exim_mainlog", mainlog, std::nullopt, true, "exim.mainlog", kMainlog, *zone, ""});
    if (!found) {
      logs.back().detect_note = "no Exim main log found" + ctx.rootfs.Describe() + " (looked for " +
                                exim::MainlogCandidates() +
                                "): waiting for this one; --exim.mainlog names another";
    }
    if (ctx.mode == RunMode::kLive || ctx.mode == RunMode::kOneshot) {
      std::string rejectlog = rejectlog_.empty() ? exim::RejectlogFor(mainlog) : rejectlog_;
      // Exim writes every rejection to both logs: the reject log is followed for its
      // self-metrics (lines, unparsed lines, rotations) and its events are not counted.
      if (!rejectlog.empty() && rejectlog != "none") {
        logs.push_back({"exim_rejectlog", rejectlog, std::nullopt, false, "exim.rejectlog",
                        kRejectlog, *zone, ""});
      }
    }
    return logs;
  }

  std::unique_ptr<LineDecoder> MakeDecoder(const LogSpec& log,
                                           const DecoderContext& ctx) const override {
    return std::make_unique<EximDecoder>(ctx.reference_time, log.time_zone);
  }

  StatusOr<QueueReader> MakeQueueReader(const MtaContext& ctx) const override {
    QueueReader reader;
    // One-shot runs (golden tests, backfills) read the queue only when asked to.
    if (queue_source_ == "none" || (ctx.mode == RunMode::kOneshot && spool_dir_.empty())) {
      return reader;
    }
    const bool strict = ctx.mode != RunMode::kLive && ctx.mode != RunMode::kOneshot;
    if (queue_source_ == "bp") {
      CommandOptions c;
      c.timeout_seconds = ctx.queue.command_timeout_seconds;
      std::string binary = binary_.empty() ? exim::DetectBinary() : binary_;
      reader.description = (binary.empty() ? std::string("exim") : binary) + " -bp";
      // The exporter still reads "exim" when none is found: each scan counts a `command` error.
      if (binary.empty()) {
        if (strict) return NotFound("no exim binary found (--exim.binary)");
        binary = "exim";
      }
      reader.source =
          std::make_unique<EximBpSource>(std::vector<std::string>{binary, "-bp"}, c, *ctx.clock);
      reader.background = true;
      return reader;
    }
    std::string input = SpoolInput(ctx.rootfs);
    reader.description = "spool " + input;
    if (strict && ::access(input.c_str(), R_OK | X_OK) != 0) {
      return ErrnoStatus(errno, input);
    }
    EximSpoolScanner::Options o;
    o.input_dir = input;
    o.max_files = ctx.queue.max_files;
    o.threads = ctx.queue.scan_threads;
    o.io_uring = ctx.queue.io_uring;
    reader.source = std::make_unique<EximSpoolScanner>(o);
    reader.owners = true;
    return reader;
  }

  ActionPlan SuggestActions(const ActionRequest& request) const override {
    // exipick reads the default spool unless told otherwise: name the one the queue came from.
    // The commands run on the host: a spool found under --path.rootfs by its host name.
    std::string spool_root;
    if (request.queue_read && queue_source_ == "spool") {
      RootFs root(request.rootfs);
      spool_root = exim::SpoolRootOf(root.HostPath(SpoolInput(root)));
    }
    return exim::SuggestActions(request, spool_root);
  }

  std::vector<std::string> ServiceAccounts() const override { return exim::EximServiceAccounts(); }

  bool IsHeld(const QueueMessage& message) const override { return message.frozen; }

  StatusOr<std::vector<Argv>> QueueHoldCommands(const std::vector<std::string>& ids,
                                                bool hold) const override {
    std::string binary = binary_.empty() ? exim::DetectBinary() : binary_;
    if (binary.empty()) return NotFound("no exim binary found (--exim.binary)");
    return exim::FreezeCommands(binary, config_file_, ids, hold);
  }

  StatusOr<HoldListFollowers> FollowHoldList(
      const std::string& /*path*/, const std::vector<std::string>& /*accounts*/) const override {
    return HoldListFollowers{};  // the ACL snippet reads the list itself (lsearch)
  }

  std::vector<Argv> AccountHoldCommands(const std::string& account, bool hold) const override {
    if (whmapi1_ == "none" || ::access(whmapi1_.c_str(), X_OK) != 0) return {};
    if (::access(("/var/cpanel/users/" + account).c_str(), F_OK) != 0) return {};
    return {exim::CpanelHoldCommand(whmapi1_, account, hold)};
  }

 private:
  std::string SpoolInput(const RootFs& root) const {
    return exim::InputDir(spool_dir_.empty() ? exim::DetectSpoolDir(root) : spool_dir_);
  }

  // --exim.log-timezone, or the process's zone (an error when TZ names a zone not found here).
  StatusOr<std::shared_ptr<const TimeZone>> LogTimeZone(const RootFs& root) const {
    if (log_timezone_.empty()) {
      StatusOr<std::shared_ptr<const TimeZone>> local = TimeZone::Process();
      if (!local.ok()) {
        return local.status().WithContext(
            "Exim's log times are local time (--exim.log-timezone names their zone)");
      }
      return local;
    }
    std::vector<std::string> extra;
    if (!root.is_host_root()) extra.push_back(root.Path("/usr/share/zoneinfo"));
    StatusOr<std::shared_ptr<const TimeZone>> zone = TimeZone::Load(log_timezone_, extra);
    if (!zone.ok()) return zone.status().WithContext("--exim.log-timezone");
    return zone;
  }

  std::string mainlog_;
  std::string rejectlog_;
  std::string spool_dir_;
  std::string queue_source_ = "spool";
  std::string binary_;
  std::string log_timezone_;
  std::string config_file_;
  std::string whmapi1_ = "/usr/local/cpanel/bin/whmapi1";
};

}  // namespace

std::unique_ptr<MtaModule> MakeEximModule() { return std::make_unique<EximModule>(); }

}  // namespace mailrelay
