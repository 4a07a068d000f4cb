#include "app/config.h"

#include <sys/stat.h>

#include <functional>
#include <sstream>

#include "common/text.h"
#include "queue/command_runner.h"

namespace mailrelay {

namespace {

// An unsigned integer flag value within [min, max], stored in *out.
template <typename T>
bool ParseUintIn(const std::string& v, std::uint64_t min, std::uint64_t max, T* out) {
  std::uint64_t n = 0;
  if (!ParseUint64(v, &n) || n < min || n > max) return false;
  *out = static_cast<T>(n);
  return true;
}

struct FlagDef {
  FlagInfo info;
  bool is_bool;
  std::function<bool(Config*, const std::string&)> set;
};

bool ParseBool(const std::string& v, bool* out) {
  if (v == "true" || v == "1" || v == "yes") {
    *out = true;
  } else if (v == "false" || v == "0" || v == "no") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

const std::vector<FlagDef>& Defs() {
  static const std::vector<FlagDef> defs = {
      {{"web.listen-address", ":9225",
        "Address to listen on for the web interface and telemetry ([host]:port)."},
       false,
       [](Config* c, const std::string& v) {
         c->listen_address = v;
         return !v.empty();
       }},
      {{"web.telemetry-path", "/metrics", "Path under which to expose metrics."},
       false,
       [](Config* c, const std::string& v) {
         c->telemetry_path = v;
         return !v.empty() && v[0] == '/';
       }},
      {{"web.config.file", "",
        "Path to a web configuration file (Prometheus exporter-toolkit format) enabling TLS "
        "and/or basic authentication on every endpoint. Re-read on SIGHUP."},
       false,
       [](Config* c, const std::string& v) {
         c->web_config_file = v;
         return true;
       }},
      {{"mta", "auto",
        "Which MTA's logs and queue to read: exim, postfix, or auto (exim when an Exim main "
        "log exists; else postfix when a Postfix flag is given, /var/log/mail.log or "
        "/var/log/maillog exists, or postconf is installed; else exim)."},
       false,
       [](Config* c, const std::string& v) {
         c->mta = v;
         return v == "auto" || v == "exim" || v == "postfix";
       }},
      {{"exim.mainlog", "autodetect",
        "Exim main log. Autodetect tries /var/log/exim_mainlog (cPanel), "
        "/var/log/exim/mainlog (DirectAdmin), /var/log/exim4/mainlog (Debian), "
        "/var/log/exim/main.log (Fedora)."},
       false,
       [](Config* c, const std::string& v) {
         c->exim_mainlog = v;
         return !v.empty();
       }},
      {{"exim.rejectlog", "autodetect",
        "Exim reject log ('none' to not read it). Autodetect: the mainlog's sibling."},
       false,
       [](Config* c, const std::string& v) {
         c->exim_rejectlog = v;
         return !v.empty();
       }},
      {{"tail.from-beginning", "false",
        "Read logs from their beginning instead of from their end at startup."},
       true,
       [](Config* c, const std::string& v) { return ParseBool(v, &c->tail_from_beginning); }},
      {{"tail.poll-interval", "250ms",
        "Longest wait between checks of the logs when no inotify event arrives."},
       false,
       [](Config* c, const std::string& v) {
         double s = 0;
         if (!ParseDurationSeconds(v, &s) || s <= 0 || s > 60) return false;
         c->tail_poll_interval_ms = static_cast<int>(s * 1000);
         if (c->tail_poll_interval_ms < 1) c->tail_poll_interval_ms = 1;
         return true;
       }},
      {{"oneshot", "false",
        "Read the logs from beginning to end, print the metrics to stdout and exit."},
       true,
       [](Config* c, const std::string& v) { return ParseBool(v, &c->oneshot); }},
      {{"state.file", "",
        "File in which the read position of every log is saved (atomically, every "
        "--state.interval and at shutdown), so that a restart continues exactly where the "
        "last run stopped, also across a rotation meanwhile. Empty: start at the end of the "
        "logs like tail -F. Not used with --oneshot."},
       false,
       [](Config* c, const std::string& v) {
         c->state_file = v;
         return true;
       }},
      {{"state.interval", "5s", "How often the read positions are saved to --state.file."},
       false,
       [](Config* c, const std::string& v) {
         double s = 0;
         if (!ParseDurationSeconds(v, &s) || s <= 0 || s > 3600) return false;
         c->state_interval_ms = static_cast<int>(s * 1000);
         if (c->state_interval_ms < 1) c->state_interval_ms = 1;
         return true;
       }},
      {{"relay.local-networks", "127.0.0.0/8,::1/128",
        "Comma-separated CIDRs whose clients are classed localhostrelay (lfd's local IPs)."},
       false,
       [](Config* c, const std::string& v) {
         c->local_networks = v;
         return true;
       }},
      {{"relay.include-interface-addresses", "true",
        "Also treat the addresses of local network interfaces as local (as lfd does)."},
       true,
       [](Config* c, const std::string& v) {
         return ParseBool(v, &c->include_interface_addresses);
       }},
      {{"relay.relayhosts", "/etc/relayhosts,/etc/alwaysrelay",
        "Comma-separated files of IPs (one per line) allowed to relay after POP "
        "authentication; an unauthenticated relay from them is poprelay. Re-read on change."},
       false,
       [](Config* c, const std::string& v) {
         c->relayhosts = v;
         return true;
       }},
      {{"relay.ignore-users", "mailnull,Debian-exim,exim",
        "Comma-separated local users whose submissions are not relaying (the MTA's own "
        "bounces and DSNs), like lfd's csf.mignore."},
       false,
       [](Config* c, const std::string& v) {
         c->ignore_users = v;
         return true;
       }},
      {{"metrics.max-series-per-family", "2000",
        "Cap on live series in each per-user/per-IP family; beyond it new keys are counted "
        "under __overflow__."},
       false,
       [](Config* c, const std::string& v) {
         return ParseUintIn(v, 1, 1000000, &c->max_series_per_family);
       }},
      {{"metrics.series-idle-timeout", "2h",
        "Per-user/per-IP series not updated for this long are dropped."},
       false,
       [](Config* c, const std::string& v) {
         return ParseDurationSeconds(v, &c->series_idle_timeout_seconds) &&
                c->series_idle_timeout_seconds >= 1;
       }},
      {{"exim.spool-dir", "autodetect",
        "Exim spool input directory whose -H files are read for the queue metrics "
        "(a spool directory holding input/ is accepted too). Autodetect tries "
        "/var/spool/exim/input (cPanel), then /var/spool/exim4/input (Debian). With "
        "--oneshot the queue is read only when this flag is given."},
       false,
       [](Config* c, const std::string& v) {
         c->exim_spool_dir = v;
         return !v.empty();
       }},
      {{"exim.queue-source", "spool",
        "How the Exim queue is read: spool (parse -H files, cached), bp (run exim -bp) or "
        "none (no queue metrics)."},
       false,
       [](Config* c, const std::string& v) {
         c->exim_queue_source = v;
         return v == "spool" || v == "bp" || v == "none";
       }},
      {{"exim.binary", "autodetect",
        "Exim binary run for --exim.queue-source=bp. Autodetect: exim, then exim4, in PATH "
        "and /usr/sbin."},
       false,
       [](Config* c, const std::string& v) {
         c->exim_binary = v;
         return !v.empty();
       }},
      {{"queue.top-k", "20",
        "Label values kept in each per-user/per-sender queue family (the rest is summed "
        "under __other__); 0 disables those families."},
       false,
       [](Config* c, const std::string& v) { return ParseUintIn(v, 0, 10000, &c->queue_top_k); }},
      {{"queue.max-files", "200000",
        "Most spool -H files opened and parsed per scrape; messages left over are read at "
        "the next scrapes (mailrelay_queue_scrape_truncated is 1 meanwhile)."},
       false,
       [](Config* c, const std::string& v) {
         return ParseUintIn(v, 1, 100000000, &c->queue_max_files);
       }},
      {{"queue.scan-threads", "0",
        "Most threads that read and parse spool -H files in one scan (one per 1024 files to "
        "read, up to this many): 0 = the CPUs, at most 4; 1 = the scraping thread alone."},
       false,
       [](Config* c, const std::string& v) {
         return ParseUintIn(v, 0, 64, &c->queue_scan_threads);
       }},
      {{"queue.io-uring", "true",
        "Open, read and close spool -H files in batches through io_uring (fewer system "
        "calls). Where the kernel or a seccomp profile refuses io_uring the scanner uses plain "
        "system calls by itself; false always does."},
       true,
       [](Config* c, const std::string& v) { return ParseBool(v, &c->queue_io_uring); }},
      {{"queue.command-timeout", "10s",
        "Longest run of a queue command (exim -bp, postqueue -j); it is killed past it."},
       false,
       [](Config* c, const std::string& v) {
         return ParseDurationSeconds(v, &c->queue_command_timeout_seconds) &&
                c->queue_command_timeout_seconds > 0 && c->queue_command_timeout_seconds <= 3600;
       }},
      {{"postfix.log", "autodetect",
        "Postfix syslog file (--mta=postfix). Autodetect tries /var/log/mail.log (Debian), "
        "then /var/log/maillog (RHEL)."},
       false,
       [](Config* c, const std::string& v) {
         c->postfix_log = v;
         return !v.empty();
       }},
      {{"postfix.journal", "false",
        "Read Postfix from the systemd journal (entries whose SYSLOG_IDENTIFIER starts with "
        "'postfix') instead of a log file."},
       true,
       [](Config* c, const std::string& v) { return ParseBool(v, &c->postfix_journal); }},
      {{"postfix.journal-path", "",
        "Journal directory or file to read with --postfix.journal. Empty: the local system "
        "journal."},
       false,
       [](Config* c, const std::string& v) {
         c->postfix_journal_path = v;
         return true;
       }},
      {{"postfix.journal-cursor-file", "",
        "File keeping the journal cursor of the last entry read, so a restart continues "
        "there. Empty: <--state.file>.postfix-journal-cursor when --state.file is set, else "
        "none (start at the end of the journal)."},
       false,
       [](Config* c, const std::string& v) {
         c->postfix_journal_cursor_file = v;
         return true;
       }},
      {{"postfix.postqueue-binary", "autodetect",
        "postqueue binary run (postqueue -j) for the Postfix queue metrics."},
       false,
       [](Config* c, const std::string& v) {
         c->postfix_postqueue_binary = v;
         return !v.empty();
       }},
      {{"postfix.correlation-max-entries", "100000",
        "Most Postfix queue ids the log correlator holds; beyond it the least recently seen "
        "is dropped (mailrelay_postfix_correlation_dropped_total{reason=\"capacity\"})."},
       false,
       [](Config* c, const std::string& v) {
         return ParseUintIn(v, 1, 100000000, &c->postfix_correlation_max_entries);
       }},
      {{"postfix.correlation-ttl", "2h",
        "A Postfix queue id not seen in the log for this long (log time) is forgotten. Keep "
        "it above maximal_backoff_time so that retries of deferred mail are not counted again."},
       false,
       [](Config* c, const std::string& v) {
         return ParseDurationSeconds(v, &c->postfix_correlation_ttl_seconds) &&
                c->postfix_correlation_ttl_seconds >= 1;
       }},
      {{"log.level", "info",
        "Only log messages with the given severity or above: debug, info, "
        "warn, error."},
       false,
       [](Config* c, const std::string& v) { return ParseLogLevel(v, &c->log_level); }},
      {{"help", "", "Show this help and exit."},
       true,
       [](Config* c, const std::string& v) { return ParseBool(v, &c->show_help); }},
      {{"version", "", "Show version and build information and exit."},
       true,
       [](Config* c, const std::string& v) { return ParseBool(v, &c->show_version); }},
  };
  return defs;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

const std::vector<FlagInfo>& FlagTable() {
  static const std::vector<FlagInfo> table = [] {
    std::vector<FlagInfo> t;
    for (const auto& d : Defs()) t.push_back(d.info);
    return t;
  }();
  return table;
}

bool ParseFlags(int argc, const char* const* argv, Config* config, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h") arg = "--help";
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument '" + arg + "' (flags start with --; see --help)";
      return false;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const FlagDef* def = nullptr;
    bool negated = false;
    for (const auto& d : Defs()) {
      if (d.info.name == name) def = &d;
    }
    if (def == nullptr && name.rfind("no-", 0) == 0) {
      for (const auto& d : Defs()) {
        if (d.is_bool && d.info.name == name.substr(3)) {
          def = &d;
          negated = true;
        }
      }
    }
    if (def == nullptr) {
      *error = "unknown flag --" + name + " (see --help)";
      return false;
    }
    if (def->is_bool) {
      if (negated) {
        if (has_value) {
          *error = "--" + name + " takes no value";
          return false;
        }
        value = "false";
      } else if (!has_value) {
        value = "true";
      }
    } else if (!has_value) {
      if (i + 1 >= argc) {
        *error = "flag --" + name + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    if (!def->set(config, value)) {
      *error = "invalid value '" + value + "' for flag --" + def->info.name;
      return false;
    }
  }
  return true;
}

std::string HelpText(const std::string& program) {
  std::ostringstream out;
  out << "usage: " << program << " [<flags>]\n\n"
      << "Prometheus exporter for mail relays: follows the Exim main log, classifies every\n"
      << "accepted message into lfd's relay classes and serves the counts on /metrics.\n\n";
#if defined(MAILRELAY_STATIC_BUILD)
  out << "This is the statically linked release binary; it uses nothing of the host but the\n"
      << "kernel, so: --web.listen-address takes a numeric address (:port, 127.0.0.1:port), no\n"
      << "host name (no NSS); user names for Postfix's uid= come from /etc/passwd only; and\n"
      << "--postfix.journal reads the host's `journalctl -o export` (not libsystemd).\n\n";
#endif
  out << "Flags:\n";
  for (const auto& f : FlagTable()) {
    std::string left = "  --" + f.name;
    if (!f.default_value.empty() && f.default_value != "false" && f.name != "help" &&
        f.name != "version") {
      left += "=" + f.default_value;
    }
    out << left << "\n      " << f.help << "\n";
  }
  return out.str();
}

std::string DetectEximMainlog() {
  for (const char* p : {"/var/log/exim_mainlog", "/var/log/exim/mainlog", "/var/log/exim4/mainlog",
                        "/var/log/exim/main.log"}) {
    if (Exists(p)) return p;
  }
  // Nothing there yet: wait for the Debian path, or the cPanel one on a cPanel host.
  if (Exists("/usr/local/cpanel")) return "/var/log/exim_mainlog";
  return "/var/log/exim4/mainlog";
}

std::string RejectlogFor(const std::string& mainlog) {
  auto slash = mainlog.rfind('/');
  std::string dir = slash == std::string::npos ? "" : mainlog.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? mainlog : mainlog.substr(slash + 1);
  if (base == "exim_mainlog") return dir + "exim_rejectlog";
  if (base == "mainlog") return dir + "rejectlog";
  if (base == "main.log") return dir + "reject.log";
  return "";
}

std::string DetectEximSpoolDir() {
  for (const char* p : {"/var/spool/exim/input", "/var/spool/exim4/input"}) {
    if (Exists(p)) return p;
  }
  return "/var/spool/exim4/input";
}

std::string EximInputDir(const std::string& spool_dir) {
  std::string dir = spool_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto slash = dir.rfind('/');
  if (dir.substr(slash == std::string::npos ? 0 : slash + 1) == "input") return dir;
  // The spool root (it has input/, or msglog/ and db/ before the first message arrives).
  for (const char* sub : {"/input", "/msglog", "/db"}) {
    struct stat st {};
    std::string path = dir + sub;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return dir + "/input";
  }
  return dir;
}

std::string DetectEximBinary() { return FindExecutable({"exim", "exim4"}); }

std::string ResolveMta(const Config& config) {
  if (config.mta != "auto") return config.mta;
  if (!config.exim_mainlog.empty()) return "exim";
  if (!config.postfix_log.empty() || config.postfix_journal) return "postfix";
  for (const char* p : {"/var/log/exim_mainlog", "/var/log/exim/mainlog", "/var/log/exim4/mainlog",
                        "/var/log/exim/main.log"}) {
    if (Exists(p)) return "exim";
  }
  if (Exists("/var/log/mail.log") || Exists("/var/log/maillog") ||
      !FindExecutable({"postconf"}).empty()) {
    return "postfix";
  }
  return "exim";
}

std::string DetectPostfixLog() {
  for (const char* p : {"/var/log/mail.log", "/var/log/maillog"}) {
    if (Exists(p)) return p;
  }
  return "/var/log/mail.log";
}

std::string DetectPostqueueBinary() {
  std::string p = FindExecutable({"postqueue"});
  return p.empty() ? "postqueue" : p;
}

}  // namespace mailrelay
