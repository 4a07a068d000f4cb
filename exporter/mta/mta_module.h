// MtaModule: everything the exporter, the report and the responder need to know about one MTA,
// behind one interface. Each MTA is one folder, mta/<name>/, holding its module (flags,
// autodetection, logs, decoders, queue readers, actions) and its parsers; mta/registry.cc is
// the only place that names them all. The shared layers (source, events, classify, metrics,
// queue, http, pipeline, report) name no MTA. docs/adding-an-mta.md walks through a new one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/flags.h"
#include "common/rootfs.h"
#include "common/status.h"
#include "common/time_zone.h"
#include "events/line_decoder.h"
#include "mta/actions.h"
#include "queue/queue_message.h"
#include "queue/queue_options.h"
#include "queue/queue_source.h"
#include "source/journal_reader.h"

namespace prometheus {
class Registry;
}

namespace mailrelay {

enum class RunMode {
  kLive,     // the exporter following the logs
  kOneshot,  // the exporter reading the logs once (--oneshot)
  kReport,   // `report`: the main log (with its rotated files) and the queue, once
  kRespond,  // `respond`: the queue and the actions only
};

// What a module needs from the command line beyond its own flags.
struct MtaContext {
  RunMode mode = RunMode::kLive;
  bool start_at_end = true;      // live: start at the end of the logs (no --tail.from-beginning)
  std::string state_file;        // --state.file (live), for positions a module keeps itself
  QueueOptions queue;            // --queue.*
  const Clock* clock = nullptr;  // never null once built by the runtime
  RootFs rootfs;                 // --path.rootfs: autodetected paths are looked up under it
};

// One log the module reads.
struct LogSpec {
  std::string name;  // value of the `log` label (mailrelay_log_*): "exim_mainlog", "postfix"
  std::string path;  // the file; empty when `journal` is set
  std::optional<JournalReader::Options> journal;  // live only: the systemd journal instead
  bool count_events = true;                       // false: followed for its self-metrics only
  std::string flag;  // the flag that names it, for messages ("exim.mainlog")
  int role = 0;      // the module's own tag, handed back to MakeDecoder
  // The zone of time stamps written without a UTC offset; null: the process's zone.
  std::shared_ptr<const TimeZone> time_zone;
  // Set when `path` is a default because autodetection found no such log: what was looked
  // for and which flag names the log. Said at startup, by /-/ready and by the report.
  std::string detect_note;
};

struct DecoderContext {
  prometheus::Registry* registry = nullptr;  // the decoder's self-metrics; null: none (report)
  std::int64_t reference_time = 0;           // see LineDecoder::SetReferenceTime
};

struct QueueReader {
  std::unique_ptr<QueueSource> source;
  // Slow readers (a command) are run on a thread of their own at --queue.refresh-interval and
  // a scrape serves the last result; fast, incremental ones are read at the scrape.
  bool background = false;
  std::string description;  // for logs and the report: "spool /var/spool/exim4/input"
  // Whether its messages carry owner_label (Exim's spool, Postfix's queue files): respond
  // finds an account's queued mail only through such a reader.
  bool owners = false;
};

// What --mta=auto found of a module on this host (under --path.rootfs), weakest first.
enum class Presence {
  kAbsent,
  kInstalled,  // its programs or platform files exist at a known path, but no log yet
  kLogging,    // its log exists at a known path
  kRequested,  // one of its flags names its log explicitly
};

class MtaModule {
 public:
  virtual ~MtaModule() = default;

  virtual std::string_view name() const = 0;  // the --mta value
  // Declares the module's flags; their targets are the module's own settings.
  virtual void RegisterFlags(FlagSet& flags) = 0;
  // --mta=auto (after the flags were parsed): looks only under `root`.
  virtual Presence Detect(const FlagSet& flags, const RootFs& root) const = 0;
  // What Detect looks for, for the message when no module is found: "/var/log/mail.log, ...".
  virtual std::string DetectTargets() const = 0;

  // The logs to read in this mode (kReport: the one log whose rotated files are read).
  virtual StatusOr<std::vector<LogSpec>> Logs(const MtaContext& ctx) const = 0;
  virtual std::unique_ptr<LineDecoder> MakeDecoder(const LogSpec& log,
                                                   const DecoderContext& ctx) const = 0;
  // The queue reader; a reader without source when the queue is not read in this mode.
  virtual StatusOr<QueueReader> MakeQueueReader(const MtaContext& ctx) const = 0;
  // Commands to count, freeze, inspect and remove one account's queued mail.
  virtual ActionPlan SuggestActions(const ActionRequest& request) const = 0;

  // --- respond (docs/respond.md): holding one account's mail, and releasing it ---
  // The MTA's own local users (its bounces and DSNs): never held.
  virtual std::vector<std::string> ServiceAccounts() const = 0;
  // Whether a queued message is stopped already: Exim frozen, Postfix in the hold queue.
  virtual bool IsHeld(const QueueMessage& message) const = 0;
  // The commands that stop (hold) or resume (release) delivery of these queued messages, a
  // bounded number of ids per command; ids that are not the MTA's message ids are left out.
  virtual StatusOr<std::vector<Argv>> QueueHoldCommands(const std::vector<std::string>& ids,
                                                        bool hold) const = 0;
  // What makes the MTA hold new mail of the accounts in the hold list at `path` (its shipped
  // snippet reads the list; the module derives what else the MTA needs from it).
  virtual StatusOr<HoldListFollowers> FollowHoldList(
      const std::string& path, const std::vector<std::string>& accounts) const = 0;
  // The host's own hold of an account's outgoing mail (cPanel's whmapi1) when this host has
  // one and the account is one of its accounts; none elsewhere.
  virtual std::vector<Argv> AccountHoldCommands(const std::string& account, bool hold) const = 0;
};

}  // namespace mailrelay
