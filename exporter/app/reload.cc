#include "app/reload.h"

#include <utility>

#include "common/logging.h"
#include "http/http_server.h"
#include "http/web_config.h"
#include "pipeline/log_pipeline.h"

namespace mailrelay {

ConfigReloader::ConfigReloader(prometheus::Registry& registry, const Clock& clock)
    : clock_(clock),
      reloads_(prometheus::BuildCounter()
                   .Name("mailrelay_config_reloads_total")
                   .Help("Configuration reloads requested with SIGHUP.")
                   .Register(registry)
                   .Add({})),
      errors_(prometheus::BuildCounter()
                  .Name("mailrelay_config_reload_errors_total")
                  .Help("SIGHUP reloads that failed (the previous configuration stays).")
                  .Register(registry)
                  .Add({})),
      last_successful_(prometheus::BuildGauge()
                           .Name("mailrelay_config_last_reload_successful")
                           .Help("1 when the last configuration reload succeeded (or none yet).")
                           .Register(registry)
                           .Add({})),
      last_success_time_(prometheus::BuildGauge()
                             .Name("mailrelay_config_last_reload_success_timestamp_seconds")
                             .Help("When the configuration was last loaded successfully.")
                             .Register(registry)
                             .Add({})) {
  last_successful_.Set(1);
  last_success_time_.Set(static_cast<double>(clock_.UnixSeconds()));
}

void ConfigReloader::Attach(std::string web_config_file, HttpServer* http, LogPipeline* pipeline) {
  web_config_file_ = std::move(web_config_file);
  http_ = http;
  pipeline_ = pipeline;
}

void ConfigReloader::AttachRules(std::string rules_file, RulesOptions options,
                                 RuleCounters* counters) {
  rules_file_ = std::move(rules_file);
  rules_options_ = std::move(options);
  rules_ = counters;
}

bool ConfigReloader::Reload() {
  reloads_.Increment();
  Log(LogLevel::kInfo, "SIGHUP: reloading configuration");
  if (pipeline_ != nullptr) pipeline_->RequestRelayhostsReload();
  bool ok = true;
  if (!web_config_file_.empty() && http_ != nullptr) {
    StatusOr<WebConfig> web_config = LoadWebConfig(web_config_file_);
    Status applied = web_config.ok() ? http_->Reload(*web_config) : web_config.status();
    if (!applied.ok()) {
      Log(LogLevel::kError, "reload failed, keeping the previous web config",
          {{"err", applied.message()}});
      ok = false;
    } else {
      Log(LogLevel::kInfo, "web config reloaded",
          {{"file", web_config_file_},
           {"tls", web_config->tls ? "true" : "false"},
           {"users", std::to_string(web_config->users.size())}});
    }
  }
  if (!rules_file_.empty() && rules_ != nullptr) {
    StatusOr<std::shared_ptr<const RuleSet>> rules = LoadRules(rules_file_, rules_options_);
    if (!rules.ok()) {
      Log(LogLevel::kError, "reload failed, keeping the previous rules",
          {{"err", rules.status().message()}});
      ok = false;
    } else {
      rules_->RequestRules(*rules);
      Log(LogLevel::kInfo, "rules reloaded", {{"file", rules_file_}});
    }
  }
  if (ok) {
    last_successful_.Set(1);
    last_success_time_.Set(static_cast<double>(clock_.UnixSeconds()));
  } else {
    errors_.Increment();
    last_successful_.Set(0);
  }
  return ok;
}

}  // namespace mailrelay
