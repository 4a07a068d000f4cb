// mail_loggen: deterministic synthetic mail logs for the benchmarks and the bench smoke test.
//
//   mail_loggen --mta=exim|postfix --lines=N [--seed=S] [--out=PATH] [--expect=PATH]
//               [--relayhosts=PATH] [--users=N] [--cpusers=N] [--ips=N] [--zipf=S]
//               [--concurrency=K] [--start=UNIX] [--rate=LINES_PER_S] [--append]
//               [--report=PATH] [--profile=default|cpanel]
//
// Exim: cPanel-style main log lines of every kind the exporter counts: `<=` arrivals over SMTP
// AUTH (A=dovecot_login:user / dovecot_plain, P=esmtpsa), local submissions (U=cpuser P=local,
// with their `cwd=` line), inbound relay from remote IPv4/IPv6 hosts, webmail from 127.0.0.1,
// POP-before-SMTP hosts, the MTA's own bounces (`<= <> R=`); deliveries `=>`/`->`, deferrals
// `==` (and "retry time not reached" notices in queue runs), failures `**`, `Completed`,
// `Frozen`; rejects of every reason (relay not permitted, RBL, unknown user, sender verify,
// HELO syntax, rate limits, spam after DATA, other); `authenticator failed` (535, and 435 which
// is not counted); connection noise. Postfix: the same traffic as syslog lines of smtpd (also
// the submission service), pickup, cleanup, qmgr (with the retry repeats of `from=` that must
// not count twice), smtp/virtual/lmtp deliveries, bounce notifications, NOQUEUE rejects, SASL
// failures, anvil/TLS/dovecot noise. Several messages are in flight at once (--concurrency), so
// the lines of different messages interleave as on a real server.
//
// Users, cPanel accounts and client IPs are drawn from populations of --users/--cpusers/--ips
// with a Zipf(--zipf) skew: a few accounts send most of the mail, a long tail sends little.
// Exim lines average ~210 bytes. The output depends only on the flags (own PRNG, no clock; the
// login of pickup's uid 33 is looked up as the exporter does), and --expect writes the totals
// the exporter must report for exactly these lines, as `metric{label="value"} N` lines (N = sum
// over every series of `metric` with those labels; the bounded label values are not listed),
// with the overflow counts and `# series <family> N` (live series) that the cap --cap gives;
// see bench/check_expected.py.
//
// --rate paces the writes (lines per second, in ~2 ms batches, O_APPEND) for live-tail tests;
// --report then gets key=value lines with the rate achieved. --replay=FILE [--repeat=N] writes
// an existing file instead of generating (a writer that costs next to nothing).
//
// --profile=cpanel (Exim, --mode=mix): the high-cardinality cPanel workload of issue 13. The
// same traffic with the extended log_selector cPanel recommends (+all): connection ids `Ci=`,
// `SNI=`, `M8S=`, `DKIM=` on arrivals, `B=authenticated_local_user` on local submissions,
// `S=`, `:port` and `I=` on remote deliveries, `K` (CHUNKING), longer and MIME-encoded
// subjects, scripts in several directories under /home/<account>, the long reverse-DNS names of
// bulk senders; and larger, flatter populations (9000 users, 1500 accounts, 80000 client IPs,
// Zipf 0.9; flags given explicitly still win). --expect then also lists `# distinct FAMILY N`,
// the distinct values each bounded family saw, whatever the cap. 2M lines: ~226 bytes each,
// ~19.5% arrivals, ~50k distinct client IPs, ~8.8k distinct auth users.
//
// --mode=flood: every line brings new keys (auth user, client IP, failed-login user, rejected
// IP): the RSS benchmark under a distinct-key flood. --mode=hostile: label values with quotes,
// backslashes, literal \n, raw CR, NUL, control bytes, invalid UTF-8, "__overflow__", values
// past the 128-byte cap, lines over 1 MiB and lines in no log format, each value new
// (tests/reliability/hostile_labels.sh). --cap=N (the exporter's
// --metrics.max-series-per-family) makes --expect also give the exact overflow counts and the
// number of live series per bounded family (`# series FAMILY N`).
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

namespace {

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "mail_loggen: %s\n", msg.c_str());
  std::exit(2);
}

// splitmix64: tiny, fast and the same everywhere (std:: distributions are not portable).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  std::uint32_t Below(std::uint32_t n) {
    return static_cast<std::uint32_t>((Next() >> 32) * n >> 32);
  }
  bool Chance(double p) { return Uniform() < p; }

 private:
  std::uint64_t s_;
};

// Zipf over ranks 0..n-1 (rank 0 the most frequent), by inverse CDF.
class Zipf {
 public:
  Zipf(std::size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
      cdf_[i] = sum;
    }
    for (auto& c : cdf_) c /= sum;
  }
  std::uint32_t Sample(Rng& rng) const {
    double u = rng.Uniform();
    auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
    if (it == cdf_.end()) --it;
    return static_cast<std::uint32_t>(it - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

// ---- expectations ----------------------------------------------------------------------------

constexpr const char* kClassNames[] = {"relay", "authrelay", "poprelay", "localrelay",
                                       "localhostrelay"};
enum Cls { kRelay, kAuthRelay, kPopRelay, kLocalRelay, kLocalhostRelay };
constexpr const char* kRejectNames[] = {"relay_denied", "unrouteable", "rbl",    "sender_verify",
                                        "ratelimit",    "spam",        "syntax", "other"};
enum Rej { kRelayDenied, kUnrouteable, kRbl, kSenderVerify, kRatelimit, kSpam, kSyntax, kOther };

// Bounded families (one per BoundedCounters of the exporter; the second family sharing the
// key, e.g. ..._recipients_total, is listed in kFamSecond).
enum Fam {
  kFamAuthUser,
  kFamSourceIp,
  kFamLocalUser,
  kFamSpoofedUser,
  kFamAuthFailures,
  kFamAuthFailIp,
  kFamAuthFailUser,
  kFamRejectIp,
  kFamCount
};
constexpr const char* kFamNames[] = {
    "mailrelay_auth_user_messages_total",  "mailrelay_source_ip_messages_total",
    "mailrelay_local_user_messages_total", "mailrelay_spoofed_user_messages_total",
    "mailrelay_auth_failures_total",       "mailrelay_auth_failure_ip_total",
    "mailrelay_auth_failure_user_total",   "mailrelay_reject_ip_total"};
constexpr const char* kFamSecond[] = {"mailrelay_auth_user_recipients_total",
                                      "mailrelay_source_ip_recipients_total",
                                      "mailrelay_local_user_recipients_total",
                                      nullptr,
                                      nullptr,
                                      nullptr,
                                      nullptr,
                                      nullptr};
constexpr std::string_view kOverflowValue = "__overflow__";

// The exporter's label sanitising (SanitizeLabelValue in exporter/common/text.cc): invalid UTF-8
// and control bytes become '?', cut on a character boundary at max_bytes. Written again on
// purpose, not called: the generator is the oracle of the expected totals (hostile_labels,
// log_bench), and one that called the exporter's code could not catch a fault in it.
std::string Sanitize(std::string_view in, std::size_t max_bytes = 128) {
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    }
    if (len > 1) {
      if (i + len > in.size()) {
        len = 0;
      } else {
        for (std::size_t k = 1; k < len; ++k) {
          auto cc = static_cast<unsigned char>(in[i + k]);
          if (cc < (k == 1 ? lo : 0x80) || cc > (k == 1 ? hi : 0xbf)) len = 0;
        }
      }
    }
    if (len == 0) {
      if (out.size() + 1 > max_bytes) break;
      out += '?';
      ++i;
      continue;
    }
    if (out.size() + len > max_bytes) break;
    if (len == 1) {
      out += (c < 0x20 || c == 0x7f) ? '?' : in[i];
    } else {
      out.append(in.substr(i, len));
    }
    i += len;
  }
  return out;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

class Expect {
 public:
  // `distinct`: also count the distinct values of each bounded family, whatever the cap
  // (`# distinct FAMILY N` lines: how high-cardinality the workload is).
  explicit Expect(std::size_t cap, bool distinct = false) : distinct_(distinct) {
    for (int f = 0; f < kFamCount; ++f)
      cap_[f] = f == kFamAuthFailures ? std::min<std::size_t>(cap, 100) : cap;
  }
  int Key(const std::string& name) {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return static_cast<int>(i);
    }
    names_.push_back(name);
    values_.push_back(0);
    return static_cast<int>(names_.size() - 1);
  }
  void Add(int key, std::uint64_t n) { values_[static_cast<std::size_t>(key)] += n; }
  // One update of bounded family f: `fixed` holds its unbounded labels, `value` the raw bounded
  // one. Mirrors BoundedCounters: sanitised value; past the cap (or when the value itself reads
  // __overflow__) the update goes to the overflow series and is counted as overflow.
  void Bounded(Fam f, std::string_view fixed, std::string_view value) {
    std::string key(fixed);
    key += '\0';
    key += Sanitize(value);
    if (distinct_) seen_[f].insert(key.substr(fixed.size() + 1));
    bool overflow =
        key.size() >= kOverflowValue.size() &&
        std::string_view(key).substr(key.size() - kOverflowValue.size()) == kOverflowValue &&
        key.size() == fixed.size() + 1 + kOverflowValue.size();
    if (!overflow && admitted_[f].count(key) == 0) {
      if (admitted_[f].size() < cap_[f]) {
        admitted_[f].insert(std::move(key));
      } else {
        overflow = true;
      }
    }
    if (overflow) ++overflow_[f];
  }
  std::string Render() const {
    std::string out;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      out += names_[i] + " " + std::to_string(values_[i]) + "\n";
    }
    for (int f = 0; f < kFamCount; ++f) {
      for (const char* name : {kFamNames[f], kFamSecond[f]}) {
        if (name == nullptr) continue;
        out += std::string("mailrelay_label_overflow_total{metric=\"") + name + "\"} " +
               std::to_string(overflow_[f]) + "\n";
        out += std::string("# series ") + name + " " + std::to_string(admitted_[f].size()) + "\n";
      }
      if (distinct_) {
        out += std::string("# distinct ") + kFamNames[f] + " " + std::to_string(seen_[f].size()) +
               "\n";
      }
    }
    return out;
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::uint64_t> values_;
  std::size_t cap_[kFamCount];
  std::unordered_set<std::string> admitted_[kFamCount];
  std::uint64_t overflow_[kFamCount] = {};
  bool distinct_ = false;
  std::unordered_set<std::string> seen_[kFamCount];  // values (not keys) when distinct_
};

// An effect of one line on the expected totals, applied when the line is written.
struct Effect {
  int key;
  std::uint64_t amount;
};

// A transaction: a few lines (bodies after the timestamp) that are written in order, possibly
// interleaved with the lines of other transactions. The effects (and distinct keys) recorded
// after a line's EndLine() belong to that line.
struct Tx {
  std::string text;
  std::vector<std::uint32_t> line_end;      // end offset of each line body in text
  std::vector<bool> raw;                    // written without the timestamp prefix
  std::vector<std::uint32_t> effect_begin;  // first effect of each line
  std::vector<Effect> effects;
  std::vector<std::uint32_t> distinct_begin;
  struct BoundedUpdate {
    Fam family;
    std::string fixed;  // the unbounded labels
    std::string value;  // the raw bounded label value
  };
  std::vector<BoundedUpdate> distinct;
  std::size_t next = 0;

  void Clear() {
    text.clear();
    line_end.clear();
    raw.clear();
    effect_begin.clear();
    effects.clear();
    distinct_begin.clear();
    distinct.clear();
    next = 0;
  }
  bool Done() const { return next >= line_end.size(); }
  void EndLine(bool no_prefix = false) {
    raw.push_back(no_prefix);
    line_end.push_back(static_cast<std::uint32_t>(text.size()));
    effect_begin.push_back(static_cast<std::uint32_t>(effects.size()));
    distinct_begin.push_back(static_cast<std::uint32_t>(distinct.size()));
  }
  std::size_t EffectEnd(std::size_t line) const {
    return line + 1 < effect_begin.size() ? effect_begin[line + 1] : effects.size();
  }
  std::size_t DistinctEnd(std::size_t line) const {
    return line + 1 < distinct_begin.size() ? distinct_begin[line + 1] : distinct.size();
  }
};

void AppendNum(std::string* s, std::uint64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) s->push_back(buf[--n]);
}

void AppendPad(std::string* s, std::uint64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i) s->push_back('0');
  while (n > 0) s->push_back(buf[--n]);
}

constexpr char kB62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void AppendB62(std::string* s, std::uint64_t v, int width) {
  char buf[16];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = kB62[v % 62];
    v /= 62;
  }
  s->append(buf, static_cast<std::size_t>(width));
}

void AppendHex(std::string* s, std::uint64_t v, int width) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int i = width - 1; i >= 0; --i) s->push_back(kHex[(v >> (4 * i)) & 15]);
}

// ---- populations ---------------------------------------------------------------------------

constexpr std::string_view kFirst[] = {
    "info",    "sales", "admin",     "office",  "contact", "john.smith", "maria", "support",
    "billing", "jane",  "peter",     "noreply", "anna",    "hr",         "mike",  "laura",
    "orders",  "david", "webmaster", "events",  "paul",    "claire",     "tom",   "accounts"};
constexpr std::string_view kWords[] = {
    "acme",  "globex", "initech",   "umbrella", "hooli",     "vandelay", "wayne",    "stark",
    "wonka", "tyrell", "cyberdyne", "soylent",  "gringotts", "monarch",  "oscorp",   "aperture",
    "bluth", "dunder", "prestige",  "sterling", "pied",      "massive",  "virtucon", "nakatomi"};
constexpr std::string_view kTlds[] = {"com", "net", "org", "co.uk", "de", "com.au", "io", "fr"};
constexpr std::string_view kSubjects[] = {
    "T=\"Invoice 2026-1187 for services rendered in October\"",
    "T=\"Re: meeting on Thursday about the new office layout\"",
    "T=\"Your order #1184-5521 has shipped and is on its way\"",
    "T=\"Fwd: \\\"quarterly\\\" report\"",
    "T=\"[Support] Ticket #48213 updated\"",
    "T=\"Password reset request\"",
    "T=\"Newsletter: November offers\"",
    "T=\"Re: Re: contract draft v3\""};
// --profile=cpanel: more and longer subjects, MIME encoded words, escaped quotes.
constexpr std::string_view kCpanelSubjects[] = {
    "T=\"Invoice 2026-1187 for services rendered in October\"",
    "T=\"Re: meeting on Thursday about the new office layout\"",
    "T=\"Your order #1184-5521 has shipped and is on its way\"",
    "T=\"Fwd: \\\"quarterly\\\" report\"",
    "T=\"[Support] Ticket #48213 updated - please reply above this line\"",
    "T=\"Password reset request for your account\"",
    "T=\"=?UTF-8?B?UmU6IEFuZ2Vib3QgZsO8ciBkaWUgV2FydHVuZyBJaHJlciBBbmxhZ2U=?=\"",
    "T=\"=?utf-8?Q?Ihre_Bestellung_wurde_versandt?=\"",
    "T=\"New submission from Contact Us form on www.acme-plumbing.example\"",
    "T=\"[WordPress] New User Registration\"",
    "T=\"Cron <acme12@server> /usr/local/bin/php /home/acme12/public_html/cron.php\"",
    "T=\"Newsletter: November offers - up to 40% off selected items\"",
    "T=\"Re: Re: contract draft v3 (final comments from legal)\"",
    "T=\"Your cPanel account disk usage warning\"",
    "T=\"Delivery Status Notification (Failure)\"",
    "T=\"=?UTF-8?Q?Confirmaci=C3=B3n_de_su_reserva_n=C2=BA_58213?=\""};
constexpr std::string_view kTls[] = {"X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no",
                                     "X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no",
                                     "X=TLS1.3:TLS_AES_128_GCM_SHA256:128 CV=no"};

void AppendDomain(std::string* s, std::uint32_t d) {
  s->append(kWords[d % 24]);
  if (d >= 24) AppendNum(s, d / 24);
  s->push_back('.');
  s->append(kTlds[(d / 7) % 8]);
}

// Email account i: local@domain, domains shared by ~8 accounts.
void AppendUser(std::string* s, std::uint32_t i) {
  s->append(kFirst[i % 24]);
  if (i >= 24) AppendNum(s, i / 24);
  s->push_back('@');
  AppendDomain(s, i / 8);
}

void AppendCpUser(std::string* s, std::uint32_t i) {
  std::string_view w = kWords[i % 24];
  s->append(w.substr(0, std::min<std::size_t>(w.size(), 6)));
  AppendNum(s, i);
}

// Remote client i: IPv4 in 198.18.0.0/15 (benchmark range), every 16th IPv6 in 2001:db8::/32.
void AppendIp(std::string* s, std::uint32_t i) {
  if (i % 16 == 15) {
    s->append("2001:db8:");
    static constexpr char kHex[] = "0123456789abcdef";
    std::uint32_t v = i;
    char buf[8];
    int n = 0;
    do {
      buf[n++] = kHex[v & 15];
      v >>= 4;
    } while (v != 0);
    while (n > 0) s->push_back(buf[--n]);
    s->append("::25");
    return;
  }
  std::uint32_t v = i * 2654435761u % 131072u;  // spread over the /15
  s->append(v < 65536 ? "198.18." : "198.19.");
  AppendNum(s, (v >> 8) & 255);
  s->push_back('.');
  AppendNum(s, (v & 255) == 0 ? 1 : (v & 255));
}

void AppendRdns(std::string* s, std::uint32_t ip, std::uint32_t domain) {
  static constexpr std::string_view kHostPrefix[] = {"mail", "mx1", "smtp", "out", "relay"};
  s->append(kHostPrefix[ip % 5]);
  s->push_back('.');
  AppendDomain(s, domain);
}

// ---- options -------------------------------------------------------------------------------

struct Options {
  std::string mta = "exim";
  std::uint64_t lines = 100000;
  std::uint64_t seed = 1;
  std::string out;
  std::string expect;
  std::string relayhosts;
  std::string report;
  std::uint32_t users = 5000;
  std::uint32_t cpusers = 800;
  std::uint32_t ips = 20000;
  double zipf = 1.05;
  std::uint32_t concurrency = 32;
  std::int64_t start = 1795424400;  // 2026-11-23 09:00:00 UTC
  double rate = 0;
  bool append = false;
  std::uint32_t lines_per_second = 400;  // of log time
  std::string mode = "mix";              // mix | flood | hostile
  std::size_t cap = 2000;                // --metrics.max-series-per-family of the exporter
  std::string replay;                    // replay this file instead of generating
  std::uint32_t repeat = 1;              // times --replay is written
  std::string profile = "default";       // default | cpanel
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  // --profile=cpanel first: its populations are defaults that the other flags may override.
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--profile=cpanel") {
      o.profile = "cpanel";
      o.users = 9000;
      o.cpusers = 1500;
      o.ips = 80000;
      o.zipf = 0.9;
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    std::string k = a.substr(0, eq);
    std::string v = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (k == "--mta") {
      o.mta = v;
    } else if (k == "--lines") {
      o.lines = std::stoull(v);
    } else if (k == "--seed") {
      o.seed = std::stoull(v);
    } else if (k == "--out") {
      o.out = v;
    } else if (k == "--expect") {
      o.expect = v;
    } else if (k == "--relayhosts") {
      o.relayhosts = v;
    } else if (k == "--report") {
      o.report = v;
    } else if (k == "--users") {
      o.users = static_cast<std::uint32_t>(std::stoul(v));
    } else if (k == "--cpusers") {
      o.cpusers = static_cast<std::uint32_t>(std::stoul(v));
    } else if (k == "--ips") {
      o.ips = static_cast<std::uint32_t>(std::stoul(v));
    } else if (k == "--zipf") {
      o.zipf = std::stod(v);
    } else if (k == "--concurrency") {
      o.concurrency = static_cast<std::uint32_t>(std::stoul(v));
    } else if (k == "--start") {
      o.start = std::stoll(v);
    } else if (k == "--rate") {
      o.rate = std::stod(v);
    } else if (k == "--append") {
      o.append = true;
    } else if (k == "--mode") {
      o.mode = v;
    } else if (k == "--cap") {
      o.cap = std::stoull(v);
    } else if (k == "--replay") {
      o.replay = v;
    } else if (k == "--repeat") {
      o.repeat = static_cast<std::uint32_t>(std::stoul(v));
    } else if (k == "--profile") {
      o.profile = v;
    } else if (k == "--help" || k == "-h") {
      std::printf(
          "usage: mail_loggen --mta=exim|postfix --lines=N [--seed=S] [--out=PATH] "
          "[--expect=PATH]\n  [--relayhosts=PATH] [--users=N] [--cpusers=N] [--ips=N] "
          "[--zipf=S] [--concurrency=K]\n  [--start=UNIX] [--rate=LINES_PER_S] [--append] "
          "[--report=PATH] [--mode=mix|flood|hostile] [--cap=N]\n"
          "  [--replay=FILE [--repeat=N]] [--profile=default|cpanel]\n");
      std::exit(0);
    } else {
      Die("unknown flag " + a);
    }
  }
  if (o.mta != "exim" && o.mta != "postfix") Die("--mta must be exim or postfix");
  if (o.mode != "mix" && o.mode != "flood" && o.mode != "hostile") Die("bad --mode");
  if (o.profile != "default" && o.profile != "cpanel") Die("bad --profile");
  if (o.profile == "cpanel" && (o.mta != "exim" || o.mode != "mix")) {
    Die("--profile=cpanel is an Exim --mode=mix workload");
  }
  if (o.users == 0 || o.cpusers == 0 || o.ips == 0 || o.concurrency == 0) Die("zero population");
  return o;
}

// ---- the generator -------------------------------------------------------------------------

// IsSpoofedSender() of the exporter (classify/relay_classifier.cc).
bool Spoofed(std::string_view identity, std::string_view sender) {
  if (identity.empty() || sender.empty()) return false;
  auto sat = sender.rfind('@');
  auto iat = identity.rfind('@');
  if (iat != std::string_view::npos) {
    if (sat == std::string_view::npos) return false;
    return !EqualsIgnoreCase(identity.substr(iat + 1), sender.substr(sat + 1));
  }
  return !EqualsIgnoreCase(identity, sender.substr(0, sat));
}

class Generator {
 public:
  explicit Generator(const Options& o)
      : o_(o),
        rng_(o.seed * 0x2545F4914F6CDD1DULL + 17),
        users_(o.users, o.zipf),
        cpusers_(o.cpusers, o.zipf),
        ips_(o.ips, o.zipf),
        attackers_(o.ips, 0.6),
        slots_(o.concurrency),
        ex_(o.cap, o.profile == "cpanel"),
        cpanel_(o.profile == "cpanel") {
    for (int c = 0; c < 5; ++c) {
      std::string l = std::string("{class=\"") + kClassNames[c] + "\"}";
      k_msgs_[c] = ex_.Key("mailrelay_messages_received_total" + l);
      k_rcpts_[c] = ex_.Key("mailrelay_recipients_received_total" + l);
      k_bytes_[c] = ex_.Key("mailrelay_received_bytes_total" + l);
      k_spoofed_[c] = ex_.Key("mailrelay_spoofed_messages_total" + l);
      k_ip_msgs_[c] = ex_.Key("mailrelay_source_ip_messages_total" + l);
      k_ip_rcpts_[c] = ex_.Key("mailrelay_source_ip_recipients_total" + l);
    }
    k_ignored_[0] = ex_.Key("mailrelay_messages_ignored_total{reason=\"bounce\"}");
    k_ignored_[1] = ex_.Key("mailrelay_messages_ignored_total{reason=\"ignored_user\"}");
    k_ignored_[2] = ex_.Key("mailrelay_messages_ignored_total{reason=\"unknown_source\"}");
    k_delivered_ = ex_.Key("mailrelay_deliveries_total{result=\"delivered\"}");
    k_deferred_ = ex_.Key("mailrelay_deliveries_total{result=\"deferred\"}");
    k_failed_ = ex_.Key("mailrelay_deliveries_total{result=\"failed\"}");
    k_retry_wait_ = ex_.Key("mailrelay_deliveries_retry_wait_total");
    k_bounces_ = ex_.Key("mailrelay_bounces_generated_total");
    k_frozen_ = ex_.Key("mailrelay_messages_frozen_total");
    k_completed_ = ex_.Key("mailrelay_messages_completed_total");
    for (int r = 0; r < 8; ++r) {
      std::string l = std::string("{reason=\"") + kRejectNames[r] + "\"}";
      k_rejects_[r] = ex_.Key("mailrelay_rejects_total" + l);
      k_reject_ip_[r] = ex_.Key("mailrelay_reject_ip_total" + l);
    }
    k_auth_user_msgs_ = ex_.Key("mailrelay_auth_user_messages_total");
    k_auth_user_rcpts_ = ex_.Key("mailrelay_auth_user_recipients_total");
    k_local_user_msgs_ = ex_.Key("mailrelay_local_user_messages_total");
    k_local_user_rcpts_ = ex_.Key("mailrelay_local_user_recipients_total");
    k_spoofed_user_ = ex_.Key("mailrelay_spoofed_user_messages_total");
    k_auth_fail_ = ex_.Key("mailrelay_auth_failures_total");
    k_auth_fail_ip_ = ex_.Key("mailrelay_auth_failure_ip_total");
    k_auth_fail_user_ = ex_.Key("mailrelay_auth_failure_user_total");
    k_lines_ = ex_.Key("mailrelay_log_lines_total");
    k_unparsed_ = ex_.Key("mailrelay_log_unparsed_lines_total");
    k_long_lines_ = ex_.Key("mailrelay_log_long_lines_total");
    // POP-before-SMTP hosts: a few addresses outside the client population.
    for (std::uint32_t i = 0; i < 16; ++i) {
      std::string ip = "203.0.113.";
      AppendNum(&ip, 10 + i);
      relayhosts_.push_back(ip);
    }
    if (o_.mta == "postfix") {
      // pickup uid -> login, resolved as the exporter does (getpwuid), "" -> the number.
      for (std::uint32_t uid : {33u, 0u}) {
        struct passwd* pw = ::getpwuid(uid);
        std::string name = pw != nullptr && pw->pw_name != nullptr ? pw->pw_name : "";
        uid_names_.push_back(name.empty() ? std::to_string(uid) : name);
      }
    }
  }

  const std::vector<std::string>& relayhosts() const { return relayhosts_; }
  Expect& expect() { return ex_; }

  // Appends the next line (with its newline) to *out.
  void NextLine(std::string* out) {
    Tx* tx = nullptr;
    while (tx == nullptr) {
      Tx& slot = slots_[rng_.Below(static_cast<std::uint32_t>(slots_.size()))];
      if (slot.Done()) {
        slot.Clear();
        ++tx_seq_;
        if (o_.mode == "flood") {
          BuildFlood(&slot);
        } else if (o_.mode == "hostile") {
          BuildHostile(&slot);
        } else if (o_.mta == "exim") {
          BuildExim(&slot);
        } else {
          BuildPostfix(&slot);
        }
      }
      tx = &slot;
    }
    if (++line_no_ % o_.lines_per_second == 0) ++now_;
    std::size_t i = tx->next++;
    if (!tx->raw[i]) AppendPrefix(out);
    std::size_t begin = i == 0 ? 0 : tx->line_end[i - 1];
    out->append(tx->text, begin, tx->line_end[i] - begin);
    out->push_back('\n');
    for (std::size_t e = tx->effect_begin[i]; e < tx->EffectEnd(i); ++e) {
      ex_.Add(tx->effects[e].key, tx->effects[e].amount);
    }
    for (std::size_t d = tx->distinct_begin[i]; d < tx->DistinctEnd(i); ++d) {
      const auto& u = tx->distinct[d];
      ex_.Bounded(u.family, u.fixed, u.value);
    }
    ex_.Add(k_lines_, 1);
  }

 private:
  void AppendPrefix(std::string* out) {
    if (now_ != prefix_time_ || prefix_.empty()) {
      prefix_time_ = now_;
      std::time_t t = static_cast<std::time_t>(o_.start + now_);
      std::tm tm{};
      gmtime_r(&t, &tm);
      prefix_.clear();
      if (o_.mta == "exim") {
        AppendPad(&prefix_, static_cast<std::uint64_t>(tm.tm_year + 1900), 4);
        prefix_.push_back('-');
        AppendPad(&prefix_, static_cast<std::uint64_t>(tm.tm_mon + 1), 2);
        prefix_.push_back('-');
        AppendPad(&prefix_, static_cast<std::uint64_t>(tm.tm_mday), 2);
        prefix_.push_back(' ');
      } else {
        static constexpr std::string_view kMon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        prefix_.append(kMon[tm.tm_mon]);
        prefix_.push_back(' ');
        if (tm.tm_mday < 10) prefix_.push_back(' ');
        AppendNum(&prefix_, static_cast<std::uint64_t>(tm.tm_mday));
        prefix_.push_back(' ');
      }
      AppendPad(&prefix_, static_cast<std::uint64_t>(tm.tm_hour), 2);
      prefix_.push_back(':');
      AppendPad(&prefix_, static_cast<std::uint64_t>(tm.tm_min), 2);
      prefix_.push_back(':');
      AppendPad(&prefix_, static_cast<std::uint64_t>(tm.tm_sec), 2);
      prefix_.push_back(' ');
      if (o_.mta == "postfix") prefix_.append("mx1 ");
    }
    out->append(prefix_);
  }

  // ---- shared helpers -----------------------------------------------------------------------
  void Fx(Tx* tx, int key, std::uint64_t n = 1) { tx->effects.push_back({key, n}); }
  void Distinct(Tx* tx, Fam f, std::string fixed, std::string value) {
    tx->distinct.push_back({f, std::move(fixed), std::move(value)});
  }

  std::string User(std::uint32_t i) {
    std::string s;
    AppendUser(&s, i);
    return s;
  }
  std::string Ip(std::uint32_t i) {
    std::string s;
    AppendIp(&s, i);
    return s;
  }

  // Effects of one accepted message (Exim `<=` / Postfix first qmgr line).
  void Arrival(Tx* tx, int cls, const std::string& ip, const std::string& auth_id,
               const std::string& local_user, const std::string& sender, std::uint32_t rcpts,
               std::uint64_t size) {
    Fx(tx, k_msgs_[cls]);
    Fx(tx, k_rcpts_[cls], rcpts);
    Fx(tx, k_bytes_[cls], size);
    std::string cname = kClassNames[cls];
    if (!ip.empty()) {
      Fx(tx, k_ip_msgs_[cls]);
      Fx(tx, k_ip_rcpts_[cls], rcpts);
      Distinct(tx, kFamSourceIp, cname, ip);
    }
    if (!auth_id.empty()) {
      Fx(tx, k_auth_user_msgs_);
      Fx(tx, k_auth_user_rcpts_, rcpts);
      Distinct(tx, kFamAuthUser, "", auth_id);
    }
    if (cls == kLocalRelay) {
      Fx(tx, k_local_user_msgs_);
      Fx(tx, k_local_user_rcpts_, rcpts);
      Distinct(tx, kFamLocalUser, "", local_user);
    }
    const std::string& identity = cls == kLocalRelay ? local_user : auth_id;
    if (Spoofed(identity, sender)) {
      Fx(tx, k_spoofed_[cls]);
      Fx(tx, k_spoofed_user_);
      Distinct(tx, kFamSpoofedUser, "", identity);
    }
  }

  void Reject(Tx* tx, int reason, const std::string& ip) {
    Fx(tx, k_rejects_[reason]);
    Fx(tx, k_reject_ip_[reason]);
    Distinct(tx, kFamRejectIp, kRejectNames[reason], ip);
  }

  void AuthFailure(Tx* tx, const std::string& authenticator, const std::string& ip,
                   const std::string& user) {
    Fx(tx, ex_.Key("mailrelay_auth_failures_total{authenticator=\"" + authenticator + "\"}"));
    Distinct(tx, kFamAuthFailures, "", authenticator);
    Fx(tx, k_auth_fail_);  // the family sum, checked too
    Fx(tx, k_auth_fail_ip_);
    Distinct(tx, kFamAuthFailIp, "", ip);
    if (!user.empty()) {
      Fx(tx, k_auth_fail_user_);
      Distinct(tx, kFamAuthFailUser, "", user);
    }
  }

  std::uint32_t Recipients() {
    double u = rng_.Uniform();
    if (u < 0.70) return 1;
    if (u < 0.88) return 2;
    if (u < 0.96) return 3;
    if (u < 0.995) return 4 + rng_.Below(5);
    return 20 + rng_.Below(40);  // a mass mailing (or a hijacked account)
  }

  std::uint64_t Size() {
    return 900 + rng_.Below(9000) + (rng_.Chance(0.05) ? rng_.Below(2000000) : 0);
  }

  std::string RemoteRcpt() {
    std::string s(kFirst[rng_.Below(24)]);
    s.push_back('@');
    AppendDomain(&s, 4000 + rng_.Below(3000));
    return s;
  }

  // ---- Exim ---------------------------------------------------------------------------------
  void EximId(std::string* s, std::uint64_t n) {
    AppendB62(s, 0x1a2b3c + n / 3844, 6);  // 6-6-2: time-ish, pid-ish, sequence
    s->push_back('-');
    AppendB62(s, (n * 2654435761u) % 56800235584ULL, 6);
    s->push_back('-');
    AppendB62(s, n % 3844, 2);
  }

  void EximMessage(Tx* tx) {
    double u = rng_.Uniform();
    std::uint64_t n = ++msg_seq_;
    std::string id;
    EximId(&id, n);
    std::uint32_t rcpts = Recipients();
    std::uint64_t size = Size();
    std::string sender;
    std::string ip;
    std::string auth_id;
    std::string local_user;
    int cls = kRelay;
    bool local_domain_rcpts = false;
    std::string& t = tx->text;
    std::string_view subj = Subject();

    if (u < 0.40) {  // inbound: unauthenticated relay from a remote host
      std::uint32_t ipi = ips_.Sample(rng_);
      ip = Ip(ipi);
      std::uint32_t dom = 4000 + ipi % 3000;
      if (rng_.Chance(0.5)) {
        t += "SMTP connection from ";
        Rdns(&t, ipi, dom);
        t += " [" + ip + "]:";
        AppendNum(&t, 30000 + rng_.Below(30000));
        t += " I=[192.0.2.10]:25 (TCP/IP connection count = ";
        AppendNum(&t, 1 + rng_.Below(9));
        t += ")";
        tx->EndLine();
      }
      sender = std::string(kFirst[rng_.Below(24)]) + "@";
      AppendDomain(&sender, dom);
      // cPanel's content scan verdict, logged with the message id before the arrival.
      t += id + " H=";
      Rdns(&t, ipi, dom);
      t += " [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:25 Warning: \"SpamAssassin as cpaneleximscanner detected OK message "
           "with 0.";
      AppendNum(&t, rng_.Below(10));
      t += " points\" F=<" + sender + ">";
      tx->EndLine();
      t += id + " <= " + sender + " H=";
      Rdns(&t, ipi, dom);
      t += " [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:25";
      Ci(&t);
      t += " P=esmtps ";
      Tls(&t, "server.example.net");
      t += " S=";
      AppendNum(&t, size);
      M8s(&t);
      if (cpanel_ && rng_.Chance(0.7)) {  // +dkim: the verified signing domain
        t += " DKIM=";
        AppendDomain(&t, dom);
      }
      t += " RT=0.";
      AppendNum(&t, rng_.Below(999));
      t += "s id=";
      AppendB62(&t, n * 7919, 10);
      AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
      AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
      t += "@";
      AppendDomain(&t, dom);
      t += ' ';
      t += subj;
      t += " from <" + sender + "> for";
      local_domain_rcpts = true;
    } else if (u < 0.68) {  // SMTP AUTH submission
      std::uint32_t ui = users_.Sample(rng_);
      auth_id = User(ui);
      std::uint32_t ipi = ips_.Sample(rng_);
      ip = Ip(ipi);
      sender = auth_id;
      if (rng_.Chance(0.03)) {  // spoofed envelope sender
        sender = "ceo@";
        AppendDomain(&sender, 9000 + rng_.Below(50));
      }
      cls = kAuthRelay;
      t += id + " <= " + sender + " H=(";
      t += rng_.Chance(0.5) ? "[192.168.1.20]" : "DESKTOP-7Q2MF4K";
      t += ") [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:587";
      Ci(&t);
      t += " P=esmtpsa ";
      Tls(&t, std::string_view(auth_id).substr(auth_id.find('@') + 1));
      t += rng_.Chance(0.8) ? " A=dovecot_login:" : " A=dovecot_plain:";
      t += auth_id;
      t += " S=";
      AppendNum(&t, size);
      M8s(&t);
      t += " RT=0.";
      AppendNum(&t, rng_.Below(999));
      t += "s id=";
      AppendB62(&t, n * 7919, 10);
      AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
      AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
      t += "@" + auth_id.substr(auth_id.find('@') + 1) + " ";
      t += subj;
      t += " from <" + sender + "> for";
    } else if (u < 0.80) {  // local submission (PHP mail(), sendmail)
      std::uint32_t ci = cpusers_.Sample(rng_);
      AppendCpUser(&local_user, ci);
      t += "cwd=/home/" + local_user + "/public_html";
      if (cpanel_) {
        static constexpr std::string_view kDirs[] = {"", "", "/wp-admin", "/contact", "/shop/cron"};
        t += kDirs[rng_.Below(5)];
      }
      t += " 3 args: /usr/sbin/sendmail -t -i";
      tx->EndLine();
      sender = local_user + "@";
      AppendDomain(&sender, ci);
      if (rng_.Chance(0.04)) sender = "noreply@secure-paypa1.example";  // forged
      cls = kLocalRelay;
      t += id + " <= " + sender + " U=" + local_user + " P=local S=";
      AppendNum(&t, size);
      if (cpanel_) t += " B=authenticated_local_user";
      t += " id=";
      AppendB62(&t, n * 7919, 10);
      AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
      AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
      t += "@server.example.net ";
      t += subj;
      t += " from <" + sender + "> for";
    } else if (u < 0.88) {  // webmail (authenticated, from 127.0.0.1): localhostrelay
      std::uint32_t ui = users_.Sample(rng_);
      auth_id = User(ui);
      ip = "127.0.0.1";
      sender = auth_id;
      cls = kLocalhostRelay;
      t += id + " <= " + sender + " H=localhost (server.example.net) [127.0.0.1]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[127.0.0.1]:587 P=esmtpa A=dovecot_login:" + auth_id + " S=";
      AppendNum(&t, size);
      t += " id=" + std::to_string(n) + ".roundcube@" + auth_id.substr(auth_id.find('@') + 1) + " ";
      t += subj;
      t += " from <" + sender + "> for";
    } else if (u < 0.90) {  // unauthenticated from localhost (a local daemon): localhostrelay
      ip = rng_.Chance(0.5) ? "127.0.0.1" : "::1";
      sender = "monitor@server.example.net";
      cls = kLocalhostRelay;
      t += id + " <= " + sender + " H=localhost [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " P=esmtp S=";
      AppendNum(&t, size);
      t += " from <" + sender + "> for";
    } else if (u < 0.92) {  // POP-before-SMTP host (relayhosts file)
      ip = relayhosts_[rng_.Below(static_cast<std::uint32_t>(relayhosts_.size()))];
      sender = User(users_.Sample(rng_));
      cls = kPopRelay;
      t += id + " <= " + sender + " H=(laptop) [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:25 P=esmtp S=";
      AppendNum(&t, size);
      t += " ";
      t += subj;
      t += " from <" + sender + "> for";
    } else if (u < 0.93) {  // the MTA's own user: ignored_user
      t += id + " <= mailnull@server.example.net U=mailnull P=local S=";
      AppendNum(&t, size);
      t += " T=\"Delivery Status Notification\" for postmaster@server.example.net";
      tx->EndLine();
      Fx(tx, k_ignored_[1]);
      EximDeliveries(tx, id, {"postmaster@server.example.net"}, true);
      return;
    } else {  // an inbound bounce (null sender from a remote host): ignored bounce
      std::uint32_t ipi = ips_.Sample(rng_);
      ip = Ip(ipi);
      t += id + " <= <> H=";
      Rdns(&t, ipi, 4000 + ipi % 3000);
      t += " [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:25";
      Ci(&t);
      t += " P=esmtps ";
      Tls(&t, "server.example.net");
      t += " S=";
      AppendNum(&t, size);
      t += " T=\"Undelivered Mail Returned to Sender\" from <> for ";
      std::string r = User(users_.Sample(rng_));
      t += r;
      tx->EndLine();
      Fx(tx, k_ignored_[0]);
      EximDeliveries(tx, id, {r}, true);
      return;
    }
    std::vector<std::string> rl;
    size_hint_ = size + 700;  // what the remote deliveries log as S= (headers added)
    for (std::uint32_t i = 0; i < rcpts; ++i) {
      rl.push_back(local_domain_rcpts ? User(users_.Sample(rng_)) : RemoteRcpt());
      t += ' ';
      t += rl.back();
    }
    tx->EndLine();
    Arrival(tx, cls, ip, auth_id, local_user, sender, rcpts, size);
    EximDeliveries(tx, id, rl, local_domain_rcpts, sender);
  }

  // Delivery lines for the recipients, then Completed (or a frozen bounce, or a deferral that
  // is retried later in the same transaction).
  void EximDeliveries(Tx* tx, const std::string& id, const std::vector<std::string>& rcpts,
                      bool local, const std::string& sender = {}) {
    std::string& t = tx->text;
    bool any_failed = false;
    for (std::size_t i = 0; i < rcpts.size(); ++i) {
      const std::string& r = rcpts[i];
      double u = rng_.Uniform();
      if (u < 0.90 || sender.empty()) {
        if (local) {
          t += id + (i == 0 ? " => " : " -> ");
          t += r.substr(0, r.find('@')) + " <" + r + "> F=<" + sender + "> P=<" + sender +
               "> R=virtual_user T=dovecot_virtual_delivery S=";
          AppendNum(&t, 900 + rng_.Below(9000));
          t += " C=\"250 2.0.0 <" + r + "> ";
          AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
          AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
          t += "Pg";
          t += " Saved\" QT=";
          AppendNum(&t, rng_.Below(3));
          t += "s DT=0s";
        } else {
          t += id + (i == 0 ? " => " : " -> ") + r + " F=<" + sender + ">" +
               " R=dkim_lookuphost T=dkim_remote_smtp";
          if (cpanel_) {  // +delivery_size
            t += " S=";
            AppendNum(&t, size_hint_);
          }
          t += " H=mx1." + r.substr(r.find('@') + 1) + " [203.0.113.";
          AppendNum(&t, 100 + rng_.Below(100));
          t += "]";
          if (cpanel_) {  // +outgoing_port +outgoing_interface
            t += ":25 I=[192.0.2.10]:";
            AppendNum(&t, 30000 + rng_.Below(30000));
          }
          t += " ";
          t += kTls[rng_.Below(3)];
          t += " DN=\"CN=mx1." + r.substr(r.find('@') + 1) + "\"";
          if (cpanel_ && rng_.Chance(0.3)) t += " K";  // CHUNKING
          t += " C=\"250 2.0.0 OK  1795424400 d9443c01a7336-";
          AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
          AppendB62(&t, rng_.Next() % 839299365868340224ULL, 10);
          t += "pfb.";
          AppendNum(&t, rng_.Below(1000));
          t += " - gsmtp\" QT=";
          AppendNum(&t, rng_.Below(9));
          t += "s DT=0.";
          AppendNum(&t, rng_.Below(9));
          t += "s";
        }
        tx->EndLine();
        Fx(tx, k_delivered_);
      } else if (u < 0.96) {
        t += id + " == " + r + " R=dkim_lookuphost T=dkim_remote_smtp defer (-44) H=mx1." +
             r.substr(r.find('@') + 1) +
             " [203.0.113.7]: SMTP error from remote mail server after RCPT TO:<" + r +
             ">: 451 4.7.1 Greylisted, please try again later";
        tx->EndLine();
        Fx(tx, k_deferred_);
        // The retry, later: delivered.
        t += id + " => " + r + " R=dkim_lookuphost T=dkim_remote_smtp H=mx1." +
             r.substr(r.find('@') + 1) + " [203.0.113.7] C=\"250 2.0.0 Ok: queued as ";
        AppendHex(&t, rng_.Next(), 10);
        t += "\"";
        tx->EndLine();
        Fx(tx, k_delivered_);
      } else {
        t += id + " ** " + r + " R=dkim_lookuphost T=dkim_remote_smtp H=mx1." +
             r.substr(r.find('@') + 1) +
             " [203.0.113.9]: SMTP error from remote mail server after RCPT TO:<" + r +
             ">: 550 5.1.1 <" + r + ">: Recipient address rejected: User unknown";
        tx->EndLine();
        Fx(tx, k_failed_);
        any_failed = true;
      }
    }
    if (any_failed && !sender.empty()) {
      // The bounce this server generates, delivered back to the sender (rarely frozen).
      std::string bid;
      EximId(&bid, ++msg_seq_);
      t += bid + " <= <> R=" + id + " U=mailnull P=local S=";
      AppendNum(&t, 2000 + rng_.Below(3000));
      t += " T=\"Mail delivery failed: returning message to sender\" for " + sender;
      tx->EndLine();
      Fx(tx, k_ignored_[0]);
      Fx(tx, k_bounces_);
      t += id + " Completed QT=2s";
      tx->EndLine();
      Fx(tx, k_completed_);
      if (rng_.Chance(0.1)) {
        t += bid + " ** " + sender + ": Unrouteable address";
        tx->EndLine();
        Fx(tx, k_failed_);
        t += bid + " Frozen (delivery error message)";
        tx->EndLine();
        Fx(tx, k_frozen_);
        return;
      }
      t += bid + " => " + sender +
           " R=dkim_lookuphost T=dkim_remote_smtp H=mx1.example.com "
           "[203.0.113.5] C=\"250 OK\"";
      tx->EndLine();
      Fx(tx, k_delivered_);
      t += bid + " Completed QT=0s";
      tx->EndLine();
      Fx(tx, k_completed_);
      return;
    }
    t += id + " Completed QT=";
    AppendNum(&t, rng_.Below(5));
    t += "s";
    tx->EndLine();
    Fx(tx, k_completed_);
  }

  void EximReject(Tx* tx) {
    std::uint32_t ipi = attackers_.Sample(rng_);
    std::string ip = Ip(ipi + 1);
    std::string& t = tx->text;
    std::string from = std::string(kFirst[rng_.Below(24)]) + "@";
    AppendDomain(&from, 6000 + rng_.Below(2000));
    std::string victim = User(users_.Sample(rng_));
    auto host = [&]() {
      t += "H=";
      if (rng_.Chance(0.5)) {
        Rdns(&t, ipi, 6000 + ipi % 2000);
        t += " ";
      }
      t += "(" + from.substr(from.find('@') + 1) + ") [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:25";
      Ci(&t);
    };
    double u = rng_.Uniform();
    int reason;
    if (u < 0.30) {
      host();
      t += " F=<" + from + "> rejected RCPT <" + RemoteRcpt() + ">: relay not permitted";
      reason = kRelayDenied;
    } else if (u < 0.50) {
      host();
      t += " F=<" + from + "> rejected RCPT <" + victim + ">: \"JunkMail rejected - [" + ip +
           "] is in an RBL: https://www.spamhaus.org/query/ip/" + ip + "\"";
      reason = kRbl;
    } else if (u < 0.68) {
      host();
      std::string nosuch =
          "x" + std::to_string(rng_.Below(100000)) + victim.substr(victim.find('@'));
      t += " " + std::string(kTls[0]) + " F=<" + from + "> rejected RCPT <" + nosuch +
           ">: No Such User Here";
      reason = kUnrouteable;
    } else if (u < 0.76) {
      host();
      t += " F=<" + from + "> rejected RCPT <" + victim + ">: Sender verify failed";
      reason = kSenderVerify;
    } else if (u < 0.84) {
      host();
      t += " rejected EHLO or HELO " + from.substr(0, from.find('@')) +
           "_pc: syntactically invalid argument(s): " + from.substr(0, from.find('@')) + "_pc";
      reason = kSyntax;
    } else if (u < 0.89) {
      host();
      t += " F=<" + from + "> temporarily rejected RCPT <" + victim + ">: Domain " +
           from.substr(from.find('@') + 1) +
           " has exceeded the max emails per hour (100/100 (100%)) allowed";
      reason = kRatelimit;
    } else if (u < 0.95) {
      std::string id;
      EximId(&id, ++msg_seq_);
      t += id + " ";
      host();
      t += " P=esmtp F=<" + from +
           "> rejected after DATA: Your message scored 17.3 "
           "SpamAssassin point. Report follows:";
      reason = kSpam;
    } else {
      host();
      t += " F=<" + from + "> rejected RCPT <" + victim +
           ">: SMTP AUTH is required for message submission on port 587";
      reason = kOther;
    }
    tx->EndLine();
    Reject(tx, reason, ip);
    if (rng_.Chance(0.5)) {
      t += "SMTP connection from (" + from.substr(from.find('@') + 1) + ") [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:25 closed by QUIT";
      tx->EndLine();
    }
  }

  void EximAuthFailures(Tx* tx) {
    std::uint32_t ipi = attackers_.Sample(rng_);
    std::string ip = Ip(ipi + 1);
    std::string& t = tx->text;
    std::uint32_t tries = 1 + rng_.Below(3);
    for (std::uint32_t i = 0; i < tries; ++i) {
      // Guessed names: real accounts (skewed) or dictionary words.
      std::string user = rng_.Chance(0.6) ? User(users_.Sample(rng_))
                                          : std::string(kFirst[rng_.Below(24)]) +
                                                std::to_string(rng_.Below(50000));
      std::string authn = rng_.Chance(0.7) ? "dovecot_login" : "dovecot_plain";
      t += authn + " authenticator failed for (User) [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:465 Ci=";
      AppendNum(&t, rng_.Below(100000));
      if (rng_.Chance(0.05)) {  // 435: not a password guess, not counted
        t += ": 435 Unable to authenticate at present (set_id=" + user + ")";
        tx->EndLine();
        continue;
      }
      t += ": 535 Incorrect authentication data (set_id=" + user + ")";
      tx->EndLine();
      AuthFailure(tx, authn, ip, user);
    }
  }

  void EximNoise(Tx* tx) {
    std::string& t = tx->text;
    std::uint32_t ipi = ips_.Sample(rng_);
    std::string ip = Ip(ipi);
    double u = rng_.Uniform();
    if (u < 0.35) {
      t += "SMTP connection from [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:25 (TCP/IP connection count = ";
      AppendNum(&t, 1 + rng_.Below(20));
      t += ")";
      tx->EndLine();
      t += "SMTP connection from [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:25 lost D=";
      AppendNum(&t, rng_.Below(30));
      t += "s";
    } else if (u < 0.55) {
      t += "no host name found for IP address " + ip;
    } else if (u < 0.75) {
      t += "TLS error on connection from (";
      Rdns(&t, ipi, 4000 + ipi % 3000);
      t += ") [" + ip + "]:";
      AppendNum(&t, 30000 + rng_.Below(30000));
      t += " I=[192.0.2.10]:465 (SSL_accept): error:0A000416:SSL routines::sslv3 alert "
           "certificate unknown";
    } else if (u < 0.90) {
      // A queue run: retry-wait notices (counted apart from deferrals).
      std::uint64_t pid = 10000 + rng_.Below(50000);
      t += "Start queue run: pid=";
      AppendNum(&t, pid);
      tx->EndLine();
      std::uint32_t waits = 1 + rng_.Below(3);
      for (std::uint32_t i = 0; i < waits; ++i) {
        std::string id;
        EximId(&id, rng_.Below(1000000));
        std::string r = RemoteRcpt();
        t += id + " == " + r +
             " R=dkim_lookuphost T=dkim_remote_smtp defer (-54) DT=0s: "
             "retry time not reached for any host for '" +
             r.substr(r.find('@') + 1) + "'";
        tx->EndLine();
        Fx(tx, k_retry_wait_);
      }
      t += "End queue run: pid=";
      AppendNum(&t, pid);
    } else {
      std::string id;
      EximId(&id, rng_.Below(1000000));
      t += id + " H=mx1.";
      AppendDomain(&t, 4000 + rng_.Below(3000));
      t += " [203.0.113.";
      AppendNum(&t, 1 + rng_.Below(250));
      t += "] Connection timed out";
    }
    tx->EndLine();
  }

  void BuildExim(Tx* tx) {
    double u = rng_.Uniform();
    if (u < 0.68) {
      EximMessage(tx);
    } else if (u < 0.88) {
      EximReject(tx);
    } else if (u < 0.96) {
      EximAuthFailures(tx);
    } else {
      EximNoise(tx);
    }
  }

  // ---- Postfix ------------------------------------------------------------------------------
  void Qid(std::string* s, std::uint64_t n) {
    AppendHex(s, (n * 0x9E3779B1ULL) & 0xFFFFFFFFFFULL, 10);
  }

  void Pid(std::string* t, const char* daemon, std::uint32_t base) {
    *t += "postfix/";
    *t += daemon;
    *t += '[';
    AppendNum(t, base + rng_.Below(4000));
    *t += "]: ";
  }

  // Delivery lines (one per recipient), `removed`; a bounce (notification + the bounce
  // message's own lines) when one failed; a retry with qmgr's repeated from= line when one
  // was deferred.
  void PostfixDeliveries(Tx* tx, const std::string& qid, const std::vector<std::string>& rcpts,
                         bool local, const std::string& sender, std::uint64_t size) {
    std::string& t = tx->text;
    bool failed = false;
    std::vector<std::string> deferred;
    auto sent = [&](const std::string& r, bool to_local) {
      if (to_local) {
        bool lmtp = rng_.Chance(0.5);
        Pid(&t, lmtp ? "lmtp" : "virtual", 20000);
        t += qid + ": to=<" + r +
             ">, relay=" + (lmtp ? "mx1.example.net[private/dovecot-lmtp]" : "virtual") +
             ", delay=0.0" + std::to_string(1 + rng_.Below(9)) +
             ", delays=0.01/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)";
      } else {
        Pid(&t, "smtp", 20000);
        t += qid + ": to=<" + r + ">, relay=mx1." + r.substr(r.find('@') + 1) + "[203.0.113.";
        AppendNum(&t, 100 + rng_.Below(100));
        t += "]:25, delay=0." + std::to_string(1 + rng_.Below(9)) +
             ", delays=0.1/0/0.2/0.3, dsn=2.0.0, status=sent (250 2.0.0 OK  1795424400 ";
        AppendB62(&t, rng_.Next() % 56800235584ULL, 6);
        t += " - gsmtp)";
      }
      tx->EndLine();
      Fx(tx, k_delivered_);
    };
    for (const auto& r : rcpts) {
      double u = rng_.Uniform();
      if (u < 0.90 || sender.empty()) {
        sent(r, local);
      } else if (u < 0.96 && !local) {
        Pid(&t, "smtp", 20000);
        t += qid + ": to=<" + r + ">, relay=mx1." + r.substr(r.find('@') + 1) +
             "[203.0.113.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=4.7.1, status=deferred "
             "(host mx1." +
             r.substr(r.find('@') + 1) +
             "[203.0.113.7] said: 451 4.7.1 Greylisted, please try again later (in reply to "
             "RCPT TO command))";
        tx->EndLine();
        Fx(tx, k_deferred_);
        deferred.push_back(r);
      } else {
        Pid(&t, local ? "virtual" : "smtp", 20000);
        t += qid + ": to=<" + r +
             ">, relay=" + (local ? "virtual" : "mx1.example.com[203.0.113.9]:25") +
             ", delay=0.3, delays=0.1/0/0.1/0.1, dsn=5.1.1, status=bounced (" +
             (local ? "unknown user: \"" + r.substr(0, r.find('@')) + "\""
                    : "host mx1.example.com[203.0.113.9] said: 550 5.1.1 <" + r +
                          ">: Recipient address rejected: User unknown (in reply to RCPT TO "
                          "command)") +
             ")";
        tx->EndLine();
        Fx(tx, k_failed_);
        failed = true;
      }
    }
    if (!deferred.empty()) {
      // The retry: qmgr logs from= again (not a new arrival), then the delivery.
      Pid(&t, "qmgr", 1000);
      t += qid + ": from=<" + sender + ">, size=" + std::to_string(size) +
           ", nrcpt=" + std::to_string(rcpts.size()) + " (queue active)";
      tx->EndLine();
      for (const auto& r : deferred) sent(r, false);
    }
    std::string bqid;
    if (failed) {
      bqid.clear();
      Qid(&bqid, ++msg_seq_);
      Pid(&t, "bounce", 30000);
      t += qid + ": sender non-delivery notification: " + bqid;
      tx->EndLine();
    }
    Pid(&t, "qmgr", 1000);
    t += qid + ": removed";
    tx->EndLine();
    Fx(tx, k_completed_);
    if (failed) {
      Pid(&t, "cleanup", 10000);
      t += bqid + ": message-id=<" + bqid + ".1795424400@mx1.example.net>";
      tx->EndLine();
      Pid(&t, "qmgr", 1000);
      std::uint64_t bsize = 2000 + rng_.Below(3000);
      t += bqid + ": from=<>, size=" + std::to_string(bsize) + ", nrcpt=1 (queue active)";
      tx->EndLine();
      Fx(tx, k_ignored_[0]);
      Fx(tx, k_bounces_);
      sent(sender, false);
      Pid(&t, "qmgr", 1000);
      t += bqid + ": removed";
      tx->EndLine();
      Fx(tx, k_completed_);
    }
  }

  void PostfixMessage(Tx* tx) {
    std::string& t = tx->text;
    std::uint64_t n = ++msg_seq_;
    std::string qid;
    Qid(&qid, n);
    std::uint32_t rcpts = Recipients();
    std::uint64_t size = Size();
    double u = rng_.Uniform();
    std::string ip;
    std::string sasl_user;
    std::string local_user;
    std::string sender;
    std::string smtpd = "smtpd";
    std::string rdns = "unknown";
    int cls = kRelay;
    bool local_rcpts = false;
    if (u < 0.45) {  // inbound
      std::uint32_t ipi = ips_.Sample(rng_);
      ip = Ip(ipi);
      rdns.clear();
      AppendRdns(&rdns, ipi, 4000 + ipi % 3000);
      sender = std::string(kFirst[rng_.Below(24)]) + "@";
      AppendDomain(&sender, 4000 + ipi % 3000);
      local_rcpts = true;
    } else if (u < 0.75) {  // submission with SASL
      sasl_user = User(users_.Sample(rng_));
      ip = Ip(ips_.Sample(rng_));
      sender = sasl_user;
      if (rng_.Chance(0.03)) {
        sender = "ceo@";
        AppendDomain(&sender, 9000 + rng_.Below(50));
      }
      smtpd = "submission/smtpd";
      cls = kAuthRelay;
    } else if (u < 0.85) {  // webmail on localhost, with SASL
      sasl_user = User(users_.Sample(rng_));
      ip = "127.0.0.1";
      rdns = "localhost";
      sender = sasl_user;
      cls = kLocalhostRelay;
    } else if (u < 0.87) {  // POP-before-SMTP host
      ip = relayhosts_[rng_.Below(static_cast<std::uint32_t>(relayhosts_.size()))];
      sender = User(users_.Sample(rng_));
      cls = kPopRelay;
    } else {  // pickup (sendmail from a script)
      bool root = rng_.Chance(0.1);
      local_user = uid_names_[root ? 1 : 0];
      std::string login = root ? "root" : "www-data";
      sender = rng_.Chance(0.05) ? std::string("noreply@secure-paypa1.example")
                                 : login + "@mx1.example.net";
      cls = kLocalRelay;
      Pid(&t, "pickup", 5000);
      t += qid + ": uid=" + std::string(root ? "0" : "33") + " from=<" +
           (sender.find("@mx1.example.net") != std::string::npos ? login : sender) + ">";
      tx->EndLine();
    }
    if (cls != kLocalRelay) {
      Pid(&t, smtpd.c_str(), 10000);
      t += "connect from " + rdns + "[" + ip + "]";
      tx->EndLine();
      Pid(&t, smtpd.c_str(), 10000);
      t += qid + ": client=" + rdns + "[" + ip + "]";
      if (!sasl_user.empty()) {
        t += rng_.Chance(0.7) ? ", sasl_method=LOGIN" : ", sasl_method=PLAIN";
        t += ", sasl_username=" + sasl_user;
      }
      tx->EndLine();
    }
    Pid(&t, "cleanup", 10000);
    t += qid + ": message-id=<" + std::to_string(n) + "." + qid + "@" +
         sender.substr(sender.find('@') + 1) + ">";
    tx->EndLine();
    Pid(&t, "qmgr", 1000);
    t += qid + ": from=<" + sender + ">, size=" + std::to_string(size) +
         ", nrcpt=" + std::to_string(rcpts) + " (queue active)";
    tx->EndLine();
    Arrival(tx, cls, cls == kLocalRelay ? std::string() : ip, sasl_user, local_user, sender, rcpts,
            size);
    if (cls != kLocalRelay) {
      Pid(&t, smtpd.c_str(), 10000);
      t += "disconnect from " + rdns + "[" + ip + "] ehlo=1 " +
           (sasl_user.empty() ? "" : "auth=1 ") + "mail=1 rcpt=" + std::to_string(rcpts) +
           " data=1 quit=1 commands=" + std::to_string(4 + rcpts + (sasl_user.empty() ? 0 : 1));
      tx->EndLine();
    }
    std::vector<std::string> rl;
    for (std::uint32_t i = 0; i < rcpts; ++i) {
      rl.push_back(local_rcpts ? User(users_.Sample(rng_)) : RemoteRcpt());
    }
    PostfixDeliveries(tx, qid, rl, local_rcpts, sender, size);
  }

  void PostfixReject(Tx* tx) {
    std::string& t = tx->text;
    std::uint32_t ipi = attackers_.Sample(rng_);
    std::string ip = Ip(ipi + 1);
    std::string from = std::string(kFirst[rng_.Below(24)]) + "@";
    AppendDomain(&from, 6000 + rng_.Below(2000));
    std::string victim = User(users_.Sample(rng_));
    std::string helo = from.substr(from.find('@') + 1);
    Pid(&t, "smtpd", 10000);
    t += "connect from unknown[" + ip + "]";
    tx->EndLine();
    Pid(&t, "smtpd", 10000);
    t += "NOQUEUE: reject: RCPT from unknown[" + ip + "]: ";
    double u = rng_.Uniform();
    int reason;
    std::string to = victim;
    if (u < 0.35) {
      to = RemoteRcpt();
      t += "454 4.7.1 <" + to + ">: Relay access denied";
      reason = kRelayDenied;
    } else if (u < 0.60) {
      t += "554 5.7.1 Service unavailable; Client host [" + ip +
           "] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/" + ip;
      reason = kRbl;
    } else if (u < 0.78) {
      to = "x" + std::to_string(rng_.Below(100000)) + victim.substr(victim.find('@'));
      t += "550 5.1.1 <" + to +
           ">: Recipient address rejected: User unknown in virtual mailbox table";
      reason = kUnrouteable;
    } else if (u < 0.88) {
      t += "450 4.1.8 <" + from + ">: Sender address rejected: Domain not found";
      reason = kSenderVerify;
    } else {
      helo = "WIN-" + std::to_string(rng_.Below(100000));
      t += "504 5.5.2 <" + helo + ">: Helo command rejected: need fully-qualified hostname";
      reason = kSyntax;
    }
    t += "; from=<" + from + "> to=<" + to + "> proto=ESMTP helo=<" + helo + ">";
    tx->EndLine();
    Reject(tx, reason, ip);
    Pid(&t, "smtpd", 10000);
    t += "disconnect from unknown[" + ip + "] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4";
    tx->EndLine();
  }

  void PostfixAuthFailures(Tx* tx) {
    std::string& t = tx->text;
    std::uint32_t ipi = attackers_.Sample(rng_);
    std::string ip = Ip(ipi + 1);
    std::uint32_t tries = 1 + rng_.Below(3);
    for (std::uint32_t i = 0; i < tries; ++i) {
      bool login = rng_.Chance(0.7);
      Pid(&t, "submission/smtpd", 10000);
      t += "warning: unknown[" + ip + "]: SASL " + (login ? "LOGIN" : "PLAIN") +
           " authentication failed: " + (login ? "UGFzc3dvcmQ6" : "authentication failure");
      std::string user;
      if (rng_.Chance(0.3)) {  // Postfix 3.9+ names the attempted user
        user = rng_.Chance(0.6)
                   ? User(users_.Sample(rng_))
                   : std::string(kFirst[rng_.Below(24)]) + std::to_string(rng_.Below(50000));
        t += ", sasl_username=" + user;
      }
      tx->EndLine();
      AuthFailure(tx, login ? "LOGIN" : "PLAIN", ip, user);
    }
    Pid(&t, "submission/smtpd", 10000);
    t += "lost connection after AUTH from unknown[" + ip + "]";
    tx->EndLine();
  }

  void PostfixNoise(Tx* tx) {
    std::string& t = tx->text;
    std::uint32_t ipi = ips_.Sample(rng_);
    std::string ip = Ip(ipi);
    double u = rng_.Uniform();
    if (u < 0.3) {
      Pid(&t, "smtpd", 10000);
      t += "Anonymous TLS connection established from unknown[" + ip +
           "]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
           "server-signature RSA-PSS (2048 bits) server-digest SHA256";
    } else if (u < 0.6) {
      std::string user = User(users_.Sample(rng_));
      t += "dovecot: imap-login: Login: user=<" + user + ">, method=PLAIN, rip=" + ip +
           ", lip=192.0.2.10, mpid=" + std::to_string(1000 + rng_.Below(60000)) +
           ", TLS, session=<";
      AppendB62(&t, rng_.Next() % 56800235584ULL, 6);
      t += ">";
    } else if (u < 0.8) {
      Pid(&t, "anvil", 1000);
      t += "statistics: max connection rate 3/60s for (smtp:" + ip + ") at Nov 23 09:12:01";
    } else {
      Pid(&t, "smtpd", 10000);
      t += "warning: hostname mail.example.com does not resolve to address " + ip +
           ": Name or service not known";
    }
    tx->EndLine();
  }

  void BuildPostfix(Tx* tx) {
    double u = rng_.Uniform();
    if (u < 0.55) {
      PostfixMessage(tx);
    } else if (u < 0.75) {
      PostfixReject(tx);
    } else if (u < 0.85) {
      PostfixAuthFailures(tx);
    } else {
      PostfixNoise(tx);
    }
  }

  // ---- flood: every key new (RSS under a distinct-key flood) --------------------------------
  static std::string FloodIp(std::uint64_t n) {
    return "10." + std::to_string((n >> 16) & 255) + "." + std::to_string((n >> 8) & 255) + "." +
           std::to_string(n & 255);
  }

  void BuildFlood(Tx* tx) {
    std::uint64_t n = tx_seq_;
    std::string ip = FloodIp(n);
    std::string user = "f" + std::to_string(n) + "@flood.example";
    std::string& t = tx->text;
    bool exim = o_.mta == "exim";
    switch (n % 3) {
      case 0: {  // an authenticated submission: new auth user, new client IP
        if (exim) {
          std::string id;
          EximId(&id, ++msg_seq_);
          t += id + " <= " + user + " H=(flood) [" + ip +
               "]:40000 P=esmtpsa A=dovecot_login:" + user + " S=1000 for r@example.com";
          tx->EndLine();
          Arrival(tx, kAuthRelay, ip, user, "", user, 1, 1000);
          break;
        }
        std::string qid;
        Qid(&qid, ++msg_seq_);
        Pid(&t, "submission/smtpd", 10000);
        t += qid + ": client=unknown[" + ip + "], sasl_method=LOGIN, sasl_username=" + user;
        tx->EndLine();
        Pid(&t, "qmgr", 1000);
        t += qid + ": from=<" + user + ">, size=1000, nrcpt=1 (queue active)";
        tx->EndLine();
        Arrival(tx, kAuthRelay, ip, user, "", user, 1, 1000);
        Pid(&t, "qmgr", 1000);
        t += qid + ": removed";
        tx->EndLine();
        Fx(tx, k_completed_);
        break;
      }
      case 1:  // a failed login: new IP, new attempted user
        if (exim) {
          t += "dovecot_login authenticator failed for (flood) [" + ip +
               "]:40000: 535 Incorrect authentication data (set_id=" + user + ")";
          tx->EndLine();
          AuthFailure(tx, "dovecot_login", ip, user);
        } else {
          Pid(&t, "submission/smtpd", 10000);
          t += "warning: unknown[" + ip +
               "]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=" + user;
          tx->EndLine();
          AuthFailure(tx, "LOGIN", ip, user);
        }
        break;
      default:  // a relay attempt: new IP
        if (exim) {
          t += "H=(flood) [" + ip + "]:40000 F=<" + user +
               "> rejected RCPT <v@example.net>: relay not permitted";
        } else {
          Pid(&t, "smtpd", 10000);
          t += "NOQUEUE: reject: RCPT from unknown[" + ip +
               "]: 454 4.7.1 <v@example.net>: Relay access denied; from=<" + user +
               "> to=<v@example.net> proto=ESMTP helo=<flood>";
        }
        tx->EndLine();
        Reject(tx, kRelayDenied, ip);
        break;
    }
  }

  // ---- hostile: label values no log should contain -------------------------------------------
  // A value from hostile fragments and a unique number: quotes, backslashes, literal "\n",
  // raw CR, NUL and other control bytes, invalid UTF-8 (stray continuation, overlong, surrogate,
  // truncated), valid multi-byte characters, label-syntax characters, "__overflow__", and long
  // runs past the 128-byte label cap. Never a space, '@', ':', '[', ']' or newline (they would
  // change the fields of the line, not the value), and it ends with 'z' (a CR at the very end of
  // a line is taken as a CRLF line end).
  std::string Hostile(std::uint64_t n) {
    static const std::string_view kFragments[] = {"\"",
                                                  "\\",
                                                  "\\n",
                                                  "\r",
                                                  std::string_view("\0", 1),
                                                  "\x7f",
                                                  "\x01",
                                                  "\xff",
                                                  "\xc3\x28",
                                                  "\xed\xa0\x80",
                                                  "\xc0\xaf",
                                                  "\xf0\x9f\x98",
                                                  "\xc3\xa9",
                                                  "\xf0\x9f\x98\x80",
                                                  "{",
                                                  "}",
                                                  "=",
                                                  ",",
                                                  "'",
                                                  "<",
                                                  ">",
                                                  ";",
                                                  "$(",
                                                  "%s",
                                                  "__overflow__",
                                                  "\xe2\x80\xae",
                                                  "\t",
                                                  "\\\"",
                                                  "\"\"",
                                                  "\x1b[31m"};
    std::string v;
    std::uint32_t pieces = 1 + rng_.Below(4);
    for (std::uint32_t i = 0; i < pieces; ++i) {
      v.append(kFragments[rng_.Below(static_cast<std::uint32_t>(std::size(kFragments)))]);
    }
    if (rng_.Chance(0.05)) v.append(200 + rng_.Below(100), 'x');  // past the label cap
    v += std::to_string(n);
    v += 'z';
    return v;
  }

  void BuildHostile(Tx* tx) {
    std::uint64_t n = tx_seq_;
    std::string ip = FloodIp(n * 7 + 1);
    std::string& t = tx->text;
    bool exim = o_.mta == "exim";
    std::string sender = "x" + std::to_string(n) + "@hostile.example";
    if (n % 5000 == 4999) {  // a line over 1 MiB (cut to 1 MiB, counted once, long_lines)
      std::string pad(1536 * 1024, 'A');
      if (exim) {
        std::string id;
        EximId(&id, ++msg_seq_);
        std::string user = "long" + std::to_string(n) + "@hostile.example";
        t += id + " <= " + sender + " H=(h) [" + ip +
             "]:40000 P=esmtpa S=777 A=dovecot_login:" + user + " T=\"" + pad +
             "\" for a@example.com b@example.com";
        tx->EndLine();
        Arrival(tx, kAuthRelay, ip, user, "", sender, 1, 777);  // the " for" list is cut off
      } else {
        Pid(&t, "smtpd", 10000);
        t += "NOQUEUE: reject: RCPT from unknown[" + ip + "]: 554 5.7.1 " + pad +
             "; from=<a@b> to=<c@d> proto=ESMTP helo=<h>";
        tx->EndLine();
        Reject(tx, kOther, ip);
      }
      Fx(tx, k_long_lines_);
      return;
    }
    if (n % 5000 == 2499) {  // 1 MiB of garbage: unparsed, long
      t += "\x01\x02 " + std::string(1100 * 1024, '\xff');
      tx->EndLine(true);
      Fx(tx, k_unparsed_);
      Fx(tx, k_long_lines_);
      return;
    }
    // Now and then the value is exactly "__overflow__": it must land in the overflow series.
    std::string h = n % 997 == 0 ? std::string(kOverflowValue) : Hostile(n);
    switch (n % 6) {
      case 0: {  // authenticated arrival, hostile auth id (last field: a quote takes the rest)
        std::string id_value = n % 997 == 0 ? h : h + "@hostile.example";
        if (exim) {
          std::string id;
          EximId(&id, ++msg_seq_);
          t += id + " <= " + sender + " H=(h) [" + ip +
               "]:40000 P=esmtpa S=512 A=dovecot_login:" + id_value;
          tx->EndLine();
          Arrival(tx, kAuthRelay, ip, id_value, "", sender, 1, 512);
        } else {
          std::string qid;
          Qid(&qid, ++msg_seq_);
          Pid(&t, "submission/smtpd", 10000);
          t += qid + ": client=unknown[" + ip + "], sasl_method=LOGIN, sasl_username=" + id_value;
          tx->EndLine();
          Pid(&t, "qmgr", 1000);
          t += qid + ": from=<" + sender + ">, size=512, nrcpt=1 (queue active)";
          tx->EndLine();
          Arrival(tx, kAuthRelay, ip, id_value, "", sender, 1, 512);
          Pid(&t, "qmgr", 1000);
          t += qid + ": removed";
          tx->EndLine();
          Fx(tx, k_completed_);
        }
        break;
      }
      case 1:  // hostile local user (Exim U=, last field) / hostile SASL failure user (Postfix)
        if (exim) {
          std::string id;
          EximId(&id, ++msg_seq_);
          t += id + " <= " + sender + " P=local S=300 U=" + h;
          tx->EndLine();
          Arrival(tx, kLocalRelay, "", "", h, sender, 1, 300);
        } else {
          Pid(&t, "smtpd", 10000);
          t += "warning: unknown[" + ip +
               "]: SASL PLAIN authentication failed: "
               "authentication failure, sasl_username=" +
               h;
          tx->EndLine();
          AuthFailure(tx, "PLAIN", ip, h);
        }
        break;
      case 2:  // failed login with a hostile attempted user
        if (exim) {
          t += "dovecot_plain authenticator failed for (h) [" + ip +
               "]:40000: 535 Incorrect authentication data (set_id=" + h + ")";
          tx->EndLine();
          AuthFailure(tx, "dovecot_plain", ip, h);
        } else {
          Pid(&t, "smtpd", 10000);
          t += "warning: unknown[" + ip + "]: SASL LOGIN authentication failed: UGFzc3dvcmQ6";
          tx->EndLine();
          AuthFailure(tx, "LOGIN", ip, "");
        }
        break;
      case 3:  // a reject whose client address is hostile text
        if (exim) {
          t += "H=(h) [" + h + "]:40000 F=<" + sender +
               "> rejected RCPT <v@example.net>: relay not permitted";
        } else {
          Pid(&t, "smtpd", 10000);
          t += "NOQUEUE: reject: RCPT from unknown[" + h +
               "]: 454 4.7.1 <v@example.net>: Relay access denied; from=<" + sender +
               "> to=<v@example.net> proto=ESMTP helo=<h>";
        }
        tx->EndLine();
        Reject(tx, kRelayDenied, h);
        break;
      case 4:  // a line that is not in the log's format, with hostile bytes
        t += "\x01garbage " + h;
        tx->EndLine(true);
        Fx(tx, k_unparsed_);
        break;
      default:  // an ordinary delivery
        if (exim) {
          std::string id;
          EximId(&id, ++msg_seq_);
          t += id +
               " => r@example.com R=dnslookup T=remote_smtp H=mx.example.com [203.0.113.5] "
               "C=\"250 OK\"";
        } else {
          std::string qid;
          Qid(&qid, ++msg_seq_);
          Pid(&t, "smtp", 20000);
          t += qid +
               ": to=<r@example.com>, relay=mx.example.com[203.0.113.5]:25, delay=0.1, "
               "delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 OK)";
        }
        tx->EndLine();
        Fx(tx, k_delivered_);
        break;
    }
  }

  // cPanel's extended log_selector (--profile=cpanel): the connection id after I=, SNI= after
  // the TLS fields, M8S= after S=. They draw from the generator only in that profile, so the
  // default workload stays byte for byte what it was.
  void Ci(std::string* t) {
    if (!cpanel_) return;
    *t += " Ci=";
    AppendNum(t, 1000 + rng_.Below(60000));
  }
  void Tls(std::string* t, std::string_view sni_domain) {
    *t += kTls[rng_.Below(3)];
    if (!cpanel_) return;
    *t += " SNI=mail.";
    *t += sni_domain;
  }
  void M8s(std::string* t) {
    if (cpanel_) *t += " M8S=0";
  }
  // Reverse DNS of remote client `ip` of `domain`; cPanel profile: the long names of bulk and
  // cloud senders (mail-ot1-f54.outbound.<domain>).
  void Rdns(std::string* t, std::uint32_t ip, std::uint32_t domain) {
    if (cpanel_ && ip % 3 != 0) {
      static constexpr std::string_view kPrefix[] = {"mail-ot1-f", "mail-wr1-f", "a27-",
                                                     "outbound-relay-", "smtp-out-"};
      *t += kPrefix[ip % 5];
      AppendNum(t, ip % 211);
      *t += ".outbound.";
      AppendDomain(t, domain);
      return;
    }
    AppendRdns(t, ip, domain);
  }
  std::string_view Subject() {
    if (!cpanel_) return kSubjects[rng_.Below(8)];
    return kCpanelSubjects[rng_.Below(std::size(kCpanelSubjects))];
  }

  const Options& o_;
  Rng rng_;
  Zipf users_;
  Zipf cpusers_;
  Zipf ips_;
  Zipf attackers_;  // a flatter distribution: many scanners
  std::vector<Tx> slots_;
  Expect ex_;
  std::vector<std::string> relayhosts_;
  std::vector<std::string> uid_names_;
  std::uint64_t msg_seq_ = 0;
  std::uint64_t tx_seq_ = 0;
  std::uint64_t line_no_ = 0;
  std::int64_t now_ = 0;
  std::int64_t prefix_time_ = -1;
  std::string prefix_;
  bool cpanel_ = false;
  std::uint64_t size_hint_ = 0;  // S= of the current message's remote deliveries (cpanel)

  int k_msgs_[5], k_rcpts_[5], k_bytes_[5], k_spoofed_[5], k_ip_msgs_[5], k_ip_rcpts_[5];
  int k_ignored_[3];
  int k_delivered_, k_deferred_, k_failed_, k_retry_wait_, k_bounces_, k_frozen_, k_completed_;
  int k_rejects_[8], k_reject_ip_[8];
  int k_auth_user_msgs_, k_auth_user_rcpts_, k_local_user_msgs_, k_local_user_rcpts_;
  int k_spoofed_user_, k_auth_fail_, k_auth_fail_ip_, k_auth_fail_user_, k_lines_, k_unparsed_;
  int k_long_lines_;
};

void WriteAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) Die(std::string("write: ") + std::strerror(errno));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void WriteFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("open " + path + ": " + std::strerror(errno));
  WriteAll(fd, text.data(), text.size());
  ::close(fd);
}

}  // namespace

// --replay: writes FILE --repeat times to fd at --rate lines/s (in ~2 ms batches cut at line
// ends). Only copies: the writer of the live-tail benchmark must cost far less than the reader.
void Replay(const Options& o, int fd) {
  std::string text;
  {
    int in = ::open(o.replay.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) Die("open " + o.replay + ": " + std::strerror(errno));
    char buf[1 << 16];
    ssize_t n = 0;
    while ((n = ::read(in, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    ::close(in);
  }
  std::uint64_t lines_per_copy =
      static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  std::uint64_t written = 0;
  double max_behind_ms = 0;
  auto batch = static_cast<std::uint64_t>(std::max(1.0, o.rate / 500));
  for (std::uint32_t r = 0; r < o.repeat; ++r) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = pos;
      std::uint64_t n = 0;
      if (o.rate <= 0) {
        end = std::min(text.size(), pos + (1 << 20));
        auto nl = text.find('\n', end == 0 ? 0 : end - 1);
        end = nl == std::string::npos ? text.size() : nl + 1;
        n = static_cast<std::uint64_t>(std::count(text.begin() + static_cast<long>(pos),
                                                  text.begin() + static_cast<long>(end), '\n'));
      } else {
        while (end < text.size() && n < batch) {
          auto nl = text.find('\n', end);
          end = nl == std::string::npos ? text.size() : nl + 1;
          ++n;
        }
        auto due =
            start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(written) / o.rate));
        auto now = Clock::now();
        if (now < due) {
          std::this_thread::sleep_until(due);
        } else {
          max_behind_ms =
              std::max(max_behind_ms, std::chrono::duration<double, std::milli>(now - due).count());
        }
      }
      WriteAll(fd, text.data() + pos, end - pos);
      written += n;
      pos = end;
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (!o.report.empty()) {
    char rep[256];
    std::snprintf(rep, sizeof rep,
                  "lines=%llu\nbytes=%llu\nseconds=%.3f\nlines_per_second=%.0f\n"
                  "max_behind_ms=%.1f\n",
                  static_cast<unsigned long long>(lines_per_copy * o.repeat),
                  static_cast<unsigned long long>(text.size() * o.repeat), secs,
                  static_cast<double>(written) / secs, max_behind_ms);
    WriteFile(o.report, rep);
  }
}

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  int fd = 1;
  if (!o.out.empty() && o.out != "-") {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (o.append ? O_APPEND : O_TRUNC);
    fd = ::open(o.out.c_str(), flags, 0644);
    if (fd < 0) Die("open " + o.out + ": " + std::strerror(errno));
  }
  if (!o.replay.empty()) {
    Replay(o, fd);
    if (fd != 1) ::close(fd);
    return 0;
  }
  Generator gen(o);
  std::string buf;
  buf.reserve(1 << 21);
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  std::uint64_t written = 0;
  std::uint64_t bytes = 0;
  double max_behind_ms = 0;
  if (o.rate <= 0) {
    for (std::uint64_t i = 0; i < o.lines; ++i) {
      gen.NextLine(&buf);
      if (buf.size() >= (1 << 20)) {
        WriteAll(fd, buf.data(), buf.size());
        bytes += buf.size();
        buf.clear();
      }
    }
    written = o.lines;
  } else {
    // Batches of ~2 ms worth of lines, each written when due.
    auto batch = static_cast<std::uint64_t>(std::max(1.0, o.rate / 500));
    while (written < o.lines) {
      std::uint64_t n = std::min(batch, o.lines - written);
      for (std::uint64_t i = 0; i < n; ++i) gen.NextLine(&buf);
      auto due = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(written) / o.rate));
      auto now = Clock::now();
      if (now < due) {
        std::this_thread::sleep_until(due);
      } else {
        max_behind_ms =
            std::max(max_behind_ms, std::chrono::duration<double, std::milli>(now - due).count());
      }
      WriteAll(fd, buf.data(), buf.size());
      bytes += buf.size();
      buf.clear();
      written += n;
    }
  }
  WriteAll(fd, buf.data(), buf.size());
  bytes += buf.size();
  if (fd != 1) ::close(fd);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (!o.expect.empty()) WriteFile(o.expect, gen.expect().Render());
  if (!o.relayhosts.empty()) {
    std::string text = "# POP-before-SMTP hosts of mail_loggen\n";
    for (const auto& ip : gen.relayhosts()) text += ip + "\n";
    WriteFile(o.relayhosts, text);
  }
  if (!o.report.empty()) {
    char rep[256];
    std::snprintf(rep, sizeof rep,
                  "lines=%llu\nbytes=%llu\nseconds=%.3f\nlines_per_second=%.0f\n"
                  "max_behind_ms=%.1f\n",
                  static_cast<unsigned long long>(written), static_cast<unsigned long long>(bytes),
                  secs, static_cast<double>(written) / secs, max_behind_ms);
    WriteFile(o.report, rep);
  }
  return 0;
}
