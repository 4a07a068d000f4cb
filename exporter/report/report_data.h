// ReportData: everything `mailrelay_exporter report` prints, as plain values. Built by
// ReportAggregator (aggregator.h) from Events and queue messages, rendered as text or JSON
// (render.h). Nothing here knows about Prometheus or about the MTA's log format.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "classify/relay_classifier.h"
#include "common/time_zone.h"
#include "events/event.h"
#include "mta/actions.h"
#include "report/time_window.h"
#include "rules/rule_tally.h"

namespace mailrelay::report {

struct LogFileReport {
  std::string path;
  bool gzip = false;
  std::int64_t first_time = 0;  // 0: unknown
  std::int64_t last_time = 0;   // 0: unknown
  // "read", "before_window", "after_window" or "error".
  std::string status;
  std::string error;
  std::uint64_t lines = 0;
};

struct ClassRow {
  RelayClass relay_class = RelayClass::kRelay;
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
  std::uint64_t bytes = 0;
  std::uint64_t spoofed = 0;
};

struct AuthUserRow {
  std::string user;
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
  std::uint64_t ips = 0;  // distinct client IPs it submitted from
  std::uint64_t spoofed = 0;
};

struct SourceIpRow {
  std::string ip;
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
};

struct SourceIpTable {
  RelayClass relay_class = RelayClass::kRelay;
  std::uint64_t distinct = 0;  // IPs seen in this class (the rows are the top ones)
  std::vector<SourceIpRow> rows;
};

struct LocalUserRow {
  std::string user;
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
  std::uint64_t spoofed = 0;
};

struct SpoofRow {
  std::string identity;
  RelayClass relay_class = RelayClass::kRelay;
  std::string sender;
  std::uint64_t messages = 0;
};

struct AuthFailureRow {
  std::string ip;
  std::uint64_t failures = 0;
  std::uint64_t users = 0;  // distinct attempted user names
};

struct RejectRow {
  RejectReason reason = RejectReason::kOther;
  std::uint64_t rejects = 0;
  std::uint64_t ips = 0;  // distinct client IPs
};

struct QueueOwnerRow {
  std::string owner;  // auth id or local user; "" for neither (unauthenticated SMTP)
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
  std::uint64_t frozen = 0;
  std::uint64_t bounces = 0;
};

struct QueueSenderRow {
  std::string sender;  // "<>" for the null sender
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
  std::uint64_t frozen = 0;
};

struct QueueReport {
  std::string source;  // "spool <dir>", "exim -bp", "postqueue -j"
  bool ok = false;     // false: not read (error says why); the numbers are then 0
  std::string error;
  bool truncated = false;
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
  std::uint64_t bytes = 0;
  std::uint64_t frozen = 0;
  std::uint64_t bounces = 0;
  std::uint64_t frozen_bounces = 0;
  std::int64_t oldest_received = 0;  // Unix seconds; 0: empty or unknown
  std::uint64_t owners = 0;          // distinct owners (rows: the top ones)
  std::uint64_t senders = 0;
  std::vector<QueueOwnerRow> by_owner;
  std::vector<QueueSenderRow> by_sender;
};

struct Offender {
  std::string identity;
  std::string kind;  // "auth_user" or "local_user"
  std::uint64_t messages = 0;
  std::uint64_t recipients = 0;
  std::uint64_t ips = 0;
  std::string sender;  // its most frequent envelope sender ("" when unknown)
  bool queue_known = false;
  std::uint64_t queued = 0;
  std::uint64_t queued_frozen = 0;
  std::vector<ActionCommand> commands;
  std::string note;  // why no commands, or a caveat
};

struct ReportData {
  std::string mta;  // "exim" or "postfix"
  TimeWindow window;
  std::shared_ptr<const TimeZone> time_zone;  // times are shown in it; null: the process's
  std::size_t top = 10;

  std::vector<LogFileReport> logs;
  std::uint64_t lines_read = 0;
  std::uint64_t lines_unparsed = 0;
  std::uint64_t lines_in_window = 0;  // lines whose own time is in the window

  std::array<ClassRow, kRelayClassCount> classes{};
  std::array<std::uint64_t, kIgnoreReasonCount> ignored{};
  std::uint64_t delivered = 0;
  std::uint64_t deferred = 0;
  std::uint64_t failed = 0;
  std::uint64_t retry_wait = 0;
  std::uint64_t bounces_generated = 0;
  std::uint64_t frozen = 0;
  std::uint64_t completed = 0;

  std::uint64_t auth_users_total = 0;  // distinct
  std::vector<AuthUserRow> auth_users;
  std::vector<SourceIpTable> source_ips;  // one per class, in RelayClass order
  std::uint64_t local_users_total = 0;
  std::vector<LocalUserRow> local_users;
  std::uint64_t spoofed_total = 0;
  std::vector<SpoofRow> spoofing;
  std::uint64_t auth_failures_total = 0;
  std::uint64_t auth_failure_ips_total = 0;
  std::vector<AuthFailureRow> auth_failures;
  std::uint64_t rejects_total = 0;
  std::vector<RejectRow> rejects;  // reasons with at least one reject, most first

  // --rules.file counter rules: one table per rule over the window's lines; absent without a
  // rules file.
  std::optional<std::vector<RuleTally::Table>> rules;

  std::optional<QueueReport> queue;  // absent: the queue was not asked for
  std::optional<Offender> offender;  // absent: nobody sent anything
};

}  // namespace mailrelay::report
