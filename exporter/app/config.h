// Command-line configuration, node_exporter style: `--name=value` or `--name value`; booleans
// also as `--name` / `--no-name`. Every flag is listed in FlagTable() (used by --help and the
// README's flags table).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/logging.h"

namespace mailrelay {

struct Config {
  std::string listen_address = ":9225";
  std::string telemetry_path = "/metrics";
  std::string web_config_file;  // empty: plain HTTP, no authentication

  std::string mta = "auto";    // auto | exim | postfix
  std::string exim_mainlog;    // empty: autodetect
  std::string exim_rejectlog;  // empty: autodetect; "none" disables
  bool tail_from_beginning = false;
  int tail_poll_interval_ms = 250;
  bool oneshot = false;
  std::string state_file;  // empty: no state, start like tail -F
  int state_interval_ms = 5000;

  std::string local_networks = "127.0.0.0/8,::1/128";
  bool include_interface_addresses = true;
  std::string relayhosts = "/etc/relayhosts,/etc/alwaysrelay";
  std::string ignore_users = "mailnull,Debian-exim,exim";

  std::size_t max_series_per_family = 2000;
  double series_idle_timeout_seconds = 7200;

  // Queue state (exporter/queue/).
  std::string exim_spool_dir;               // empty: autodetect (and not read in --oneshot)
  std::string exim_queue_source = "spool";  // spool | bp | none
  std::string exim_binary;                  // empty: autodetect exim, exim4
  std::size_t queue_top_k = 20;
  std::size_t queue_max_files = 200000;
  unsigned queue_scan_threads = 0;  // spool: most scan threads; 0 = min(CPUs, 4)
  bool queue_io_uring = true;       // spool: read -H files through io_uring where allowed
  double queue_command_timeout_seconds = 10;

  // Postfix (--mta=postfix).
  std::string postfix_log;  // empty: autodetect
  bool postfix_journal = false;
  std::string postfix_journal_path;         // empty: the local system journal
  std::string postfix_journal_cursor_file;  // empty: <state.file>.postfix-journal-cursor
  std::string postfix_postqueue_binary;     // empty: autodetect postqueue
  std::size_t postfix_correlation_max_entries = 100000;
  double postfix_correlation_ttl_seconds = 7200;

  LogLevel log_level = LogLevel::kInfo;

  bool show_help = false;
  bool show_version = false;
};

struct FlagInfo {
  std::string name;
  std::string default_value;
  std::string help;
};
const std::vector<FlagInfo>& FlagTable();

// Parses argv into *config. On error returns false and sets *error to a one-line message.
bool ParseFlags(int argc, const char* const* argv, Config* config, std::string* error);

std::string HelpText(const std::string& program);

// Autodetected defaults, first existing path wins (cPanel, DirectAdmin, Debian, Fedora).
std::string DetectEximMainlog();
std::string RejectlogFor(const std::string& mainlog);

// The Exim spool input directory: /var/spool/exim/input (cPanel), else
// /var/spool/exim4/input (Debian, also the answer when neither exists).
std::string DetectEximSpoolDir();
// A --exim.spool-dir value: the input directory itself, or a spool directory that holds one
// (DIR/input is then used).
std::string EximInputDir(const std::string& spool_dir);
// exim, then exim4, in $PATH then /usr/sbin and /usr/bin; "" when none is found.
std::string DetectEximBinary();

// --mta=auto: "exim" when a Postfix-only flag is absent and an Exim mainlog exists at an
// autodetect path (or --exim.mainlog is given); else "postfix" when --postfix.log or
// --postfix.journal is given, a Postfix log exists (/var/log/mail.log, /var/log/maillog) or
// postconf is installed; else "exim". An explicit --mta wins.
std::string ResolveMta(const Config& config);
// /var/log/mail.log (Debian), then /var/log/maillog (RHEL); the Debian path when neither exists.
std::string DetectPostfixLog();
// postqueue in $PATH then /usr/sbin and /usr/bin; "postqueue" when not found.
std::string DetectPostqueueBinary();

}  // namespace mailrelay
