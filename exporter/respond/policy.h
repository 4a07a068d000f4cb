// What respond does with one alert of a notification, before anything is run: hold the
// account the alert names, refuse (with a reason that is audited and counted), or ignore a
// resolved alert (a person releases, never a notification). Pure: the hourly action cap and
// "already held" depend on state and are decided by the Responder.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "respond/webhook.h"

namespace mailrelay::respond {

// A label value that can be an SMTP AUTH login or a local user, and that every consumer of
// the hold list takes as one key: 1 to 254 bytes, a local part of [A-Za-z0-9._%+=~-] starting
// with a letter, digit or '_', optionally '@' and a domain of [A-Za-z0-9.-] labels. No blanks,
// quotes, ':' (Exim lsearch ends keys there), '#', control bytes or non-ASCII; not the
// exporter's own placeholders (__overflow__, __other__). *why says what is wrong.
bool IsPlausibleAccount(std::string_view account, std::string* why);

struct PolicyOptions {
  std::vector<std::string> alerts;     // alert names acted on
  std::string severity = "critical";   // required `severity` label; "" = any
  std::vector<std::string> instances;  // `instance` values acted on; empty = any
  std::vector<std::string> never;      // accounts never held (ASCII case-insensitive)
  std::string account_label = "user";  // the label naming the account
};

// Refusal reasons: the `reason` label of mailrelay_respond_refusals_total and of the audit.
inline constexpr std::string_view kRefusalReasons[] = {
    "alert_not_listed",     // alertname not in --respond.alerts
    "severity",             // not the --respond.severity tier
    "instance",             // another server's alert (--respond.instance)
    "no_account",           // no `user` label
    "implausible_account",  // IsPlausibleAccount says no
    "never",                // in --respond.never (root, the MTA's own users, VIPs)
    "rate_limited",         // --respond.max-actions-per-hour reached (decided by the Responder)
    "released",             // a person released the account after this alert started
};

struct Decision {
  enum class Kind { kHold, kRefuse, kIgnore };
  Kind kind = Kind::kRefuse;
  std::string account;  // kHold: the account; else what the label said, if any
  std::string reason;   // kRefuse: one of kRefusalReasons; kIgnore: "resolved"
  std::string detail;   // for people: why
};

Decision Evaluate(const PolicyOptions& options, const WebhookAlert& alert);

// ASCII case-insensitive membership (account names, as Exim lsearch and postmap compare them).
bool ContainsAccount(const std::vector<std::string>& list, std::string_view account);

}  // namespace mailrelay::respond
