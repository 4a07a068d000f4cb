#include "respond/policy.h"

#include <algorithm>

#include "common/text.h"

namespace mailrelay::respond {

namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsLocalPartChar(char c) {
  return IsAlnum(c) || std::string_view("._%+=~-").find(c) != std::string_view::npos;
}

bool IsDomainChar(char c) { return IsAlnum(c) || c == '.' || c == '-'; }

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

bool IsPlausibleAccount(std::string_view account, std::string* why) {
  auto fail = [why](const char* text) {
    *why = text;
    return false;
  };
  if (account.empty()) return fail("empty");
  if (account.size() > 254) return fail("longer than 254 bytes");
  if (account == "__overflow__" || account == "__other__") {
    return fail("the exporter's placeholder for the keys it does not list");
  }
  std::size_t at = account.find('@');
  std::string_view local = account.substr(0, at);
  if (local.empty()) return fail("empty local part");
  if (!IsAlnum(local[0]) && local[0] != '_') return fail("must start with a letter, digit or _");
  for (char c : local) {
    if (!IsLocalPartChar(c)) return fail("a character that is not [A-Za-z0-9._%+=~-]");
  }
  if (at == std::string_view::npos) return true;
  std::string_view domain = account.substr(at + 1);
  if (domain.empty()) return fail("empty domain");
  for (char c : domain) {
    if (!IsDomainChar(c)) return fail("a domain character that is not [A-Za-z0-9.-]");
  }
  if (domain.front() == '.' || domain.back() == '.' || domain.front() == '-' ||
      domain.find("..") != std::string_view::npos) {
    return fail("a malformed domain");
  }
  return true;
}

bool ContainsAccount(const std::vector<std::string>& list, std::string_view account) {
  return std::any_of(list.begin(), list.end(),
                     [account](const std::string& a) { return EqualsIgnoreCase(a, account); });
}

Decision Evaluate(const PolicyOptions& options, const WebhookAlert& alert) {
  Decision d;
  d.account = alert.Label(options.account_label);
  const std::string name = alert.Label("alertname");
  auto refuse = [&d](std::string reason, std::string detail) {
    d.kind = Decision::Kind::kRefuse;
    d.reason = std::move(reason);
    d.detail = std::move(detail);
    return d;
  };
  if (alert.status == "resolved") {
    d.kind = Decision::Kind::kIgnore;
    d.reason = "resolved";
    d.detail = "a resolved alert releases nothing (respond release ACCOUNT does)";
    return d;
  }
  if (!Contains(options.alerts, name)) {
    return refuse("alert_not_listed", "alert '" + name + "' is not in --respond.alerts");
  }
  if (!options.severity.empty() && alert.Label("severity") != options.severity) {
    return refuse("severity", "severity '" + alert.Label("severity") + "' is not '" +
                                  options.severity + "' (--respond.severity)");
  }
  if (!options.instances.empty() && !Contains(options.instances, alert.Label("instance"))) {
    return refuse("instance", "instance '" + alert.Label("instance") +
                                  "' is not this server's (--respond.instance)");
  }
  if (alert.labels.count(options.account_label) == 0) {
    return refuse("no_account", "the alert has no '" + options.account_label + "' label");
  }
  std::string why;
  if (!IsPlausibleAccount(d.account, &why)) {
    return refuse("implausible_account",
                  "label " + options.account_label + " is not a plausible account: " + why);
  }
  if (ContainsAccount(options.never, d.account)) {
    return refuse("never", "account " + d.account + " is in --respond.never");
  }
  d.kind = Decision::Kind::kHold;
  d.detail = "alert " + name + " names account " + d.account;
  return d;
}

}  // namespace mailrelay::respond
