#include "report/render.h"

#include <sstream>

#include "report/json_writer.h"
#include "report/text_table.h"
#include "report/time_window.h"

namespace mailrelay::report {

namespace {

std::string N(std::uint64_t v) { return std::to_string(v); }

std::string Plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Times are shown in the log's zone (the one its stamps were read in).
const TimeZone& Zone(const ReportData& d) {
  return d.time_zone ? *d.time_zone : *TimeZone::Local();
}

std::string TimeCell(std::int64_t t, const TimeZone& zone) {
  return t == 0 ? "-" : FormatLocalTimeShort(t, zone);
}

std::string OrDash(const std::string& s, const char* dash) { return s.empty() ? dash : s; }

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

// "Top auth users, top 3 of 57" when rows were left out.
std::string Heading(const std::string& title, std::size_t shown, std::uint64_t total) {
  if (total > shown) return title + ", top " + N(shown) + " of " + N(total);
  return title;
}

void Section(std::ostringstream& out, const std::string& heading, const TextTable& table) {
  out << "\n" << heading << "\n";
  if (table.empty()) {
    out << "  (none)\n";
  } else {
    out << table.Render();
  }
}

std::string Bytes(std::uint64_t b) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

void TextHeader(std::ostringstream& out, const ReportData& d) {
  out << "mailrelay_exporter report (" << d.mta << ")\n";
  out << "Window  " << FormatLocalTime(d.window.since, Zone(d)) << " .. "
      << FormatLocalTime(d.window.until, Zone(d)) << " ("
      << FormatDuration(d.window.until - d.window.since) << ")\n";
  out << "Lines   " << d.lines_read << " read, " << d.lines_in_window << " in the window, "
      << d.lines_unparsed << " unparsed\n";

  TextTable logs({{"FILE"}, {"FIRST LINE"}, {"LAST LINE"}, {"LINES", true}, {"STATUS"}});
  for (const auto& f : d.logs) {
    std::string status = f.status;
    if (f.status == "before_window") status = "skipped: ends before the window";
    if (f.status == "after_window") status = "skipped: starts after the window";
    if (f.status == "error") status = "error: " + f.error;
    logs.AddRow({f.path, TimeCell(f.first_time, Zone(d)), TimeCell(f.last_time, Zone(d)),
                 f.status == "read" || f.status == "error" ? N(f.lines) : "-", status});
  }
  Section(out, "Logs", logs);
}

void TextArrivals(std::ostringstream& out, const ReportData& d) {
  TextTable classes(
      {{"CLASS"}, {"MESSAGES", true}, {"RECIPIENTS", true}, {"BYTES", true}, {"SPOOFED", true}});
  ClassRow total;
  for (const auto& c : d.classes) {
    classes.AddRow({std::string(RelayClassName(c.relay_class)), N(c.messages), N(c.recipients),
                    N(c.bytes), N(c.spoofed)});
    total.messages += c.messages;
    total.recipients += c.recipients;
    total.bytes += c.bytes;
    total.spoofed += c.spoofed;
  }
  classes.AddRow(
      {"total", N(total.messages), N(total.recipients), N(total.bytes), N(total.spoofed)});
  Section(out, "Accepted messages by relay class", classes);
  out << "  Not relaying: "
      << Plural(d.ignored[static_cast<std::size_t>(IgnoreReason::kBounce)], "bounce", "bounces")
      << " (null sender), " << d.ignored[static_cast<std::size_t>(IgnoreReason::kIgnoredUser)]
      << " from ignored users, "
      << d.ignored[static_cast<std::size_t>(IgnoreReason::kUnknownSource)]
      << " of unknown source.\n";
  out << "  Deliveries: " << d.delivered << " delivered, " << d.deferred << " deferred, "
      << d.failed << " failed, " << d.retry_wait << " retry waits; "
      << Plural(d.bounces_generated, "bounce", "bounces") << " generated, " << d.frozen
      << " frozen, " << d.completed << " completed.\n";

  TextTable users(
      {{"USER"}, {"MESSAGES", true}, {"RECIPIENTS", true}, {"IPS", true}, {"SPOOFED", true}});
  for (const auto& u : d.auth_users) {
    users.AddRow({u.user, N(u.messages), N(u.recipients), N(u.ips), N(u.spoofed)});
  }
  Section(out, Heading("Top auth users (SMTP AUTH id)", d.auth_users.size(), d.auth_users_total),
          users);

  TextTable ips({{"CLASS"}, {"IP"}, {"MESSAGES", true}, {"RECIPIENTS", true}, {"OF", true}});
  for (const auto& t : d.source_ips) {
    for (const auto& r : t.rows) {
      ips.AddRow({std::string(RelayClassName(t.relay_class)), r.ip, N(r.messages), N(r.recipients),
                  N(t.distinct)});
    }
  }
  Section(out, "Top source IPs per relay class (OF: distinct IPs in the class)", ips);

  TextTable locals({{"USER"}, {"MESSAGES", true}, {"RECIPIENTS", true}, {"SPOOFED", true}});
  for (const auto& u : d.local_users) {
    locals.AddRow({u.user, N(u.messages), N(u.recipients), N(u.spoofed)});
  }
  Section(out,
          Heading("Top local users (localrelay: scripts, sendmail)", d.local_users.size(),
                  d.local_users_total),
          locals);

  TextTable spoof({{"IDENTITY"}, {"CLASS"}, {"SENDER"}, {"MESSAGES", true}});
  for (const auto& s : d.spoofing) {
    spoof.AddRow({s.identity, std::string(RelayClassName(s.relay_class)), s.sender, N(s.messages)});
  }
  Section(out,
          "Spoofing suspects: identity vs envelope sender (" +
              Plural(d.spoofed_total, "message", "messages") + ")",
          spoof);
}

void TextAbuse(std::ostringstream& out, const ReportData& d) {
  TextTable fails({{"IP"}, {"FAILURES", true}, {"USERS", true}});
  for (const auto& f : d.auth_failures)
    fails.AddRow({OrDash(f.ip, "(unknown)"), N(f.failures), N(f.users)});
  Section(out,
          "Failed SMTP AUTH by IP (" + Plural(d.auth_failures_total, "failure", "failures") +
              " from " + Plural(d.auth_failure_ips_total, "IP", "IPs") +
              "; USERS: distinct names tried)",
          fails);

  TextTable rejects({{"REASON"}, {"REJECTS", true}, {"IPS", true}});
  for (const auto& r : d.rejects) {
    rejects.AddRow({std::string(RejectReasonName(r.reason)), N(r.rejects), N(r.ips)});
  }
  Section(out, "Rejects by reason (" + N(d.rejects_total) + ")", rejects);
}

void TextQueue(std::ostringstream& out, const ReportData& d) {
  if (!d.queue) return;
  const QueueReport& q = *d.queue;
  out << "\nQueue now (" << q.source << ")\n";
  if (!q.ok) {
    out << "  not read: " << q.error << "\n";
    return;
  }
  out << "  " << Plural(q.messages, "message", "messages") << ", "
      << Plural(q.recipients, "recipient", "recipients") << ", " << Bytes(q.bytes) << "; "
      << q.frozen << " frozen; " << Plural(q.bounces, "bounce", "bounces") << " ("
      << q.frozen_bounces << " frozen)";
  if (q.oldest_received != 0) {
    out << "; oldest received " << FormatLocalTime(q.oldest_received, Zone(d));
  }
  out << (q.truncated ? "; truncated (--queue.max-files)" : "") << "\n";

  TextTable owners(
      {{"OWNER"}, {"MESSAGES", true}, {"RECIPIENTS", true}, {"FROZEN", true}, {"BOUNCES", true}});
  for (const auto& o : q.by_owner) {
    owners.AddRow(
        {OrDash(o.owner, "(none)"), N(o.messages), N(o.recipients), N(o.frozen), N(o.bounces)});
  }
  Section(out, Heading("Queue by owner (auth user, else local user)", q.by_owner.size(), q.owners),
          owners);
  TextTable senders({{"SENDER"}, {"MESSAGES", true}, {"RECIPIENTS", true}, {"FROZEN", true}});
  for (const auto& s : q.by_sender) {
    senders.AddRow({s.sender, N(s.messages), N(s.recipients), N(s.frozen)});
  }
  Section(out, Heading("Queue by envelope sender", q.by_sender.size(), q.senders), senders);
}

void TextOffender(std::ostringstream& out, const ReportData& d) {
  out << "\n";
  if (!d.offender) {
    out << "Top offender: none (no authenticated or local submissions in the window"
        << (d.queue ? ", nothing but bounces in the queue" : "") << ")\n";
    return;
  }
  const Offender& o = *d.offender;
  std::string kind = o.kind == "auth_user"     ? "auth user"
                     : o.kind == "local_user"  ? "local user"
                     : o.kind == "queue_owner" ? "queue owner"
                                               : "queue sender";
  out << "Top offender: " << o.identity << " (" << kind << ")\n  ";
  if (o.kind == "auth_user" || o.kind == "local_user") {
    out << "in the window: " << Plural(o.messages, "message", "messages") << ", "
        << Plural(o.recipients, "recipient", "recipients");
    if (o.ips > 0) out << " from " << Plural(o.ips, "IP", "IPs");
    if (!o.sender.empty()) out << ", usually as " << o.sender;
    out << "; ";
  }
  if (o.queue_known) {
    out << "queued now: " << Plural(o.queued, "message", "messages") << " (" << o.queued_frozen
        << " frozen)";
  } else {
    out << "queue not read";
  }
  out << "\n";
  if (!o.note.empty()) out << "  " << o.note << "\n";
  for (const auto& c : o.commands) {
    out << "  # " << c.what << "\n  " << c.command << "\n";
  }
}

void JsonTime(JsonWriter& w, std::string_view key, std::int64_t t, const TimeZone& zone) {
  w.Key(key);
  if (t == 0) {
    w.Null();
  } else {
    w.String(FormatRfc3339(t, zone));
  }
}

void JsonLogs(JsonWriter& w, const ReportData& d) {
  w.Key("logs");
  w.BeginArray();
  for (const auto& f : d.logs) {
    w.BeginObject();
    w.Field("path", f.path);
    w.FieldBool("gzip", f.gzip);
    JsonTime(w, "first_line_time", f.first_time, Zone(d));
    JsonTime(w, "last_line_time", f.last_time, Zone(d));
    w.Field("status", f.status);
    w.Field("lines", f.lines);
    w.Key("error");
    if (f.error.empty()) {
      w.Null();
    } else {
      w.String(f.error);
    }
    w.EndObject();
  }
  w.EndArray();
}

void JsonArrivals(JsonWriter& w, const ReportData& d) {
  w.Key("classes");
  w.BeginObject();
  for (const auto& c : d.classes) {
    w.Key(RelayClassName(c.relay_class));
    w.BeginObject();
    w.Field("messages", c.messages);
    w.Field("recipients", c.recipients);
    w.Field("bytes", c.bytes);
    w.Field("spoofed", c.spoofed);
    w.EndObject();
  }
  w.EndObject();
  w.Key("ignored");
  w.BeginObject();
  for (int i = 0; i < kIgnoreReasonCount; ++i) {
    w.Field(IgnoreReasonName(static_cast<IgnoreReason>(i)), d.ignored[static_cast<std::size_t>(i)]);
  }
  w.EndObject();
  w.Key("deliveries");
  w.BeginObject();
  w.Field("delivered", d.delivered);
  w.Field("deferred", d.deferred);
  w.Field("failed", d.failed);
  w.Field("retry_wait", d.retry_wait);
  w.EndObject();
  w.Field("bounces_generated", d.bounces_generated);
  w.Field("frozen", d.frozen);
  w.Field("completed", d.completed);

  w.Key("auth_users");
  w.BeginObject();
  w.Field("total", d.auth_users_total);
  w.Key("top");
  w.BeginArray();
  for (const auto& u : d.auth_users) {
    w.BeginObject();
    w.Field("user", u.user);
    w.Field("messages", u.messages);
    w.Field("recipients", u.recipients);
    w.Field("ips", u.ips);
    w.Field("spoofed", u.spoofed);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  w.Key("source_ips");
  w.BeginObject();
  for (const auto& t : d.source_ips) {
    w.Key(RelayClassName(t.relay_class));
    w.BeginObject();
    w.Field("total", t.distinct);
    w.Key("top");
    w.BeginArray();
    for (const auto& r : t.rows) {
      w.BeginObject();
      w.Field("ip", r.ip);
      w.Field("messages", r.messages);
      w.Field("recipients", r.recipients);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();

  w.Key("local_users");
  w.BeginObject();
  w.Field("total", d.local_users_total);
  w.Key("top");
  w.BeginArray();
  for (const auto& u : d.local_users) {
    w.BeginObject();
    w.Field("user", u.user);
    w.Field("messages", u.messages);
    w.Field("recipients", u.recipients);
    w.Field("spoofed", u.spoofed);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  w.Key("spoofing");
  w.BeginObject();
  w.Field("total", d.spoofed_total);
  w.Key("top");
  w.BeginArray();
  for (const auto& s : d.spoofing) {
    w.BeginObject();
    w.Field("identity", s.identity);
    w.Field("class", RelayClassName(s.relay_class));
    w.Field("sender", s.sender);
    w.Field("messages", s.messages);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void JsonAbuse(JsonWriter& w, const ReportData& d) {
  w.Key("auth_failures");
  w.BeginObject();
  w.Field("total", d.auth_failures_total);
  w.Field("ips", d.auth_failure_ips_total);
  w.Key("top");
  w.BeginArray();
  for (const auto& f : d.auth_failures) {
    w.BeginObject();
    w.Field("ip", f.ip);
    w.Field("failures", f.failures);
    w.Field("users", f.users);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  w.Key("rejects");
  w.BeginObject();
  w.Field("total", d.rejects_total);
  w.Key("by_reason");
  w.BeginObject();
  for (int i = 0; i < kRejectReasonCount; ++i) {
    auto reason = static_cast<RejectReason>(i);
    RejectRow row;
    for (const auto& r : d.rejects) {
      if (r.reason == reason) row = r;
    }
    w.Key(RejectReasonName(reason));
    w.BeginObject();
    w.Field("rejects", row.rejects);
    w.Field("ips", row.ips);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
}

void TextRules(std::ostringstream& out, const ReportData& d) {
  if (!d.rules) return;
  for (const RuleTally::Table& t : *d.rules) {
    std::vector<TextTable::Column> columns;
    for (const auto& label : t.labels) columns.push_back({Upper(label)});
    columns.push_back({"LINES", true});
    TextTable table(std::move(columns));
    for (const auto& row : t.rows) {
      std::vector<std::string> cells = row.values;
      cells.push_back(N(row.count));
      table.AddRow(std::move(cells));
    }
    std::string heading = "Rule " + t.rule + " (" + Plural(t.total, "line", "lines") + ", " +
                          Plural(t.distinct, "label set", "label sets");
    if (t.overflow > 0) heading += ", " + N(t.overflow) + " over the cap";
    Section(out, Heading(heading + ")", t.rows.size(), t.distinct), table);
  }
}

void JsonRules(JsonWriter& w, const ReportData& d) {
  if (!d.rules) return;
  w.Key("rules");
  w.BeginArray();
  for (const RuleTally::Table& t : *d.rules) {
    w.BeginObject();
    w.Field("rule", t.rule);
    w.Field("family", t.family);
    w.Field("lines", t.total);
    w.Field("label_sets", t.distinct);
    w.Field("overflow", t.overflow);
    w.Key("top");
    w.BeginArray();
    for (const auto& row : t.rows) {
      w.BeginObject();
      w.Key("labels");
      w.BeginObject();
      for (std::size_t i = 0; i < t.labels.size() && i < row.values.size(); ++i) {
        w.Field(t.labels[i], row.values[i]);
      }
      w.EndObject();
      w.Field("lines", row.count);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

void JsonQueue(JsonWriter& w, const ReportData& d) {
  w.Key("queue");
  if (!d.queue) {
    w.Null();
    return;
  }
  const QueueReport& q = *d.queue;
  w.BeginObject();
  w.Field("source", q.source);
  w.FieldBool("read", q.ok);
  w.Key("error");
  if (q.ok) {
    w.Null();
  } else {
    w.String(q.error);
  }
  w.FieldBool("truncated", q.truncated);
  w.Field("messages", q.messages);
  w.Field("recipients", q.recipients);
  w.Field("bytes", q.bytes);
  w.Field("frozen", q.frozen);
  w.Field("bounces", q.bounces);
  w.Field("frozen_bounces", q.frozen_bounces);
  JsonTime(w, "oldest_received", q.oldest_received, Zone(d));
  w.Key("owners");
  w.BeginObject();
  w.Field("total", q.owners);
  w.Key("top");
  w.BeginArray();
  for (const auto& o : q.by_owner) {
    w.BeginObject();
    w.Field("owner", o.owner);
    w.Field("messages", o.messages);
    w.Field("recipients", o.recipients);
    w.Field("frozen", o.frozen);
    w.Field("bounces", o.bounces);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.Key("senders");
  w.BeginObject();
  w.Field("total", q.senders);
  w.Key("top");
  w.BeginArray();
  for (const auto& s : q.by_sender) {
    w.BeginObject();
    w.Field("sender", s.sender);
    w.Field("messages", s.messages);
    w.Field("recipients", s.recipients);
    w.Field("frozen", s.frozen);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
}

void JsonOffender(JsonWriter& w, const ReportData& d) {
  w.Key("top_offender");
  if (!d.offender) {
    w.Null();
    return;
  }
  const Offender& o = *d.offender;
  w.BeginObject();
  w.Field("identity", o.identity);
  w.Field("kind", o.kind);
  w.Field("messages", o.messages);
  w.Field("recipients", o.recipients);
  w.Field("ips", o.ips);
  w.Key("sender");
  if (o.sender.empty()) {
    w.Null();
  } else {
    w.String(o.sender);
  }
  w.Key("queued");
  if (o.queue_known) {
    w.Uint(o.queued);
  } else {
    w.Null();
  }
  w.Key("queued_frozen");
  if (o.queue_known) {
    w.Uint(o.queued_frozen);
  } else {
    w.Null();
  }
  w.Key("commands");
  w.BeginArray();
  for (const auto& c : o.commands) {
    w.BeginObject();
    w.Field("what", c.what);
    w.Field("command", c.command);
    w.EndObject();
  }
  w.EndArray();
  w.Key("note");
  if (o.note.empty()) {
    w.Null();
  } else {
    w.String(o.note);
  }
  w.EndObject();
}

}  // namespace

std::string RenderText(const ReportData& d) {
  std::ostringstream out;
  TextHeader(out, d);
  TextArrivals(out, d);
  TextAbuse(out, d);
  TextRules(out, d);
  TextQueue(out, d);
  TextOffender(out, d);
  return out.str();
}

std::string RenderJson(const ReportData& d) {
  JsonWriter w;
  w.BeginObject();
  w.Field("report_version", static_cast<std::uint64_t>(kReportJsonVersion));
  w.Field("mta", d.mta);
  w.Key("window");
  w.BeginObject();
  w.Field("since", FormatRfc3339(d.window.since, Zone(d)));
  w.Field("until", FormatRfc3339(d.window.until, Zone(d)));
  w.FieldInt("since_unix", d.window.since);
  w.FieldInt("until_unix", d.window.until);
  w.EndObject();
  w.Field("top", static_cast<std::uint64_t>(d.top));
  JsonLogs(w, d);
  w.Key("lines");
  w.BeginObject();
  w.Field("read", d.lines_read);
  w.Field("in_window", d.lines_in_window);
  w.Field("unparsed", d.lines_unparsed);
  w.EndObject();
  JsonArrivals(w, d);
  JsonAbuse(w, d);
  JsonRules(w, d);
  JsonQueue(w, d);
  JsonOffender(w, d);
  w.EndObject();
  return w.Take();
}

}  // namespace mailrelay::report
