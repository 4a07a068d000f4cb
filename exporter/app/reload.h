// SIGHUP: re-reads --web.config.file (TLS material, users, headers) and the relayhosts files.
// An invalid web config is logged and counted, and the previous one stays in force.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/clock.h"

namespace mailrelay {

class HttpServer;
class LogPipeline;

class ConfigReloader {
 public:
  // Registers mailrelay_config_* in `registry` (also in --oneshot, where nothing reloads).
  ConfigReloader(prometheus::Registry& registry, const Clock& clock);

  // What Reload() acts on (live mode). `web_config_file` may be empty.
  void Attach(std::string web_config_file, HttpServer* http, LogPipeline* pipeline);
  // Returns true when everything was re-read and applied.
  bool Reload();

 private:
  const Clock& clock_;
  std::string web_config_file_;
  HttpServer* http_ = nullptr;
  LogPipeline* pipeline_ = nullptr;
  prometheus::Counter& reloads_;
  prometheus::Counter& errors_;
  prometheus::Gauge& last_successful_;
  prometheus::Gauge& last_success_time_;
};

}  // namespace mailrelay
