// The command line every subcommand shares: the common flags (web, tail, state, relay, metrics,
// queue, log), every MTA module's flags and --mta, in one FlagSet. Each subcommand adds its own
// flags to `flags` before Parse() and takes the ones whose scope names it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/logging.h"
#include "common/status.h"
#include "mta/mta_module.h"
#include "queue/queue_options.h"

namespace mailrelay {

struct WebOptions {
  std::string listen_address = ":9225";
  std::string telemetry_path = "/metrics";
  std::string config_file;  // empty: plain HTTP, no authentication
};

struct TailOptions {
  bool from_beginning = false;
  int poll_interval_ms = 250;
  bool oneshot = false;
  std::string state_file;  // empty: no state, start like tail -F
  int state_interval_ms = 5000;
};

struct RelayOptions {
  std::string local_networks = "127.0.0.0/8,::1/128";
  bool include_interface_addresses = true;
  std::string relayhosts = "/etc/relayhosts,/etc/alwaysrelay";
  std::string ignore_users = "mailnull,Debian-exim,exim";
};

struct MetricsOptions {
  std::size_t max_series_per_family = 2000;
  double series_idle_timeout_seconds = 7200;
};

struct CommonOptions {
  std::string mta = "auto";
  std::string rootfs = "/";  // --path.rootfs
  WebOptions web;
  TailOptions tail;
  RelayOptions relay;
  MetricsOptions metrics;
  QueueOptions queue;
  std::string rules_file;  // --rules.file; empty: no user rules
  LogLevel log_level = LogLevel::kInfo;
  bool help = false;
  bool version = false;
};

class CommandLine {
 public:
  CommandLine();  // declares the common flags and every module's flags
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  // Parses argv[first..) for `scope` and resolves --mta (mta() is set on success).
  Status Parse(int argc, const char* const* argv, FlagScope scope, int first = 1);

  CommonOptions options;
  FlagSet flags;
  MtaModule* mta() const { return mta_; }
  // Set when --mta=auto found no MTA: what it looked for, and what it uses instead.
  const std::string& mta_note() const { return mta_note_; }
  const std::vector<std::unique_ptr<MtaModule>>& modules() const { return modules_; }

 private:
  std::vector<std::unique_ptr<MtaModule>> modules_;
  MtaModule* mta_ = nullptr;
  std::string mta_note_;
};

}  // namespace mailrelay
