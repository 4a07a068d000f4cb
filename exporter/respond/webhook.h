// Alertmanager's webhook notification (payload version 4, as sent by webhook_configs):
//   {"version":"4","groupKey":..,"truncatedAlerts":0,"status":"firing|resolved","receiver":..,
//    "groupLabels":{..},"commonLabels":{..},"commonAnnotations":{..},"externalURL":..,
//    "alerts":[{"status":"firing|resolved","labels":{..},"annotations":{..},"startsAt":..,
//               "endsAt":..,"generatorURL":..,"fingerprint":..}, ...]}
// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). Pure parser:
// strict about what respond relies on (version, statuses, label maps of strings), unknown
// members ignored; bounded (body size by the HTTP layer, alert count here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mailrelay::respond {

inline constexpr std::size_t kMaxWebhookAlerts = 1000;

struct WebhookAlert {
  std::string status;  // "firing" or "resolved"
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string starts_at;  // RFC 3339, as Alertmanager wrote it
  std::string fingerprint;

  // The label's value, "" when absent.
  std::string Label(const std::string& name) const;
};

struct WebhookPayload {
  std::string version;  // "4"
  std::string status;   // "firing" or "resolved": the group's
  std::string receiver;
  std::string group_key;
  std::int64_t truncated_alerts = 0;
  std::vector<WebhookAlert> alerts;
};

// InvalidArgument naming the first problem ("not a JSON object", "version \"3\" is not 4",
// "alerts[2].labels.user is not a string", ...).
StatusOr<WebhookPayload> ParseWebhookPayload(std::string_view body);

}  // namespace mailrelay::respond
