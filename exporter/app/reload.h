// SIGHUP: re-reads --web.config.file (TLS material, users, headers), --rules.file and the
// relayhosts files. An invalid web config or rules file is logged and counted, and the previous
// one stays in force.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/clock.h"
#include "rules/rule_counters.h"
#include "rules/rule_set.h"

namespace mailrelay {

class HttpServer;
class LogPipeline;

class ConfigReloader {
 public:
  // Registers mailrelay_config_* in `registry` (also in --oneshot, where nothing reloads).
  ConfigReloader(prometheus::Registry& registry, const Clock& clock);

  // What Reload() acts on (live mode). `web_config_file` may be empty.
  void Attach(std::string web_config_file, HttpServer* http, LogPipeline* pipeline);
  // --rules.file: re-read on SIGHUP with `options`; good rules replace those of `counters` at the
  // pipeline's next turn, bad ones are refused (logged, counted) and the old ones stay.
  void AttachRules(std::string rules_file, RulesOptions options, RuleCounters* counters);
  // Returns true when everything was re-read and applied.
  bool Reload();

 private:
  const Clock& clock_;
  std::string web_config_file_;
  HttpServer* http_ = nullptr;
  LogPipeline* pipeline_ = nullptr;
  std::string rules_file_;
  RulesOptions rules_options_;
  RuleCounters* rules_ = nullptr;
  prometheus::Counter& reloads_;
  prometheus::Counter& errors_;
  prometheus::Gauge& last_successful_;
  prometheus::Gauge& last_success_time_;
};

}  // namespace mailrelay
