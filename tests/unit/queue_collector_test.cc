// QueueCollector and AggregateQueue: the families of docs/metrics.md "Queue state", top-k,
// shared scans, failed scans, and the command sources end to end with stand-in commands.
#include "queue/queue_collector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "app/command_line.h"
#include "app/runtime.h"
#include "common/clock.h"
#include "http/http_server.h"
#include "mta/exim/bp_source.h"
#include "mta/exim/paths.h"
#include "mta/exim/spool_scanner.h"
#include "mta/postfix/postqueue_source.h"
#include "status_matchers.h"

namespace mailrelay {
namespace {

const std::string kTestdata = MAILRELAY_TESTDATA_DIR;

// A plain HTTP/1.0 GET over loopback: the whole response.
std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

std::shared_ptr<const QueueMessage> Msg(const std::string& queue, const std::string& sender,
                                        const std::string& owner, std::uint64_t rcpts,
                                        std::uint64_t size, std::int64_t received,
                                        bool frozen = false) {
  auto m = std::make_shared<QueueMessage>();
  m->queue = queue;
  m->bounce = sender.empty();
  m->sender_label = sender.empty() ? "<>" : sender;
  m->owner_label = owner;
  m->recipients = rcpts;
  m->size_bytes = size;
  m->has_received_time = true;
  m->received_time = received;
  m->frozen = frozen;
  return m;
}

class FakeSource : public QueueSource {
 public:
  std::vector<std::string> QueueNames() const override { return names; }
  QueueScan Scan() override {
    ++scans;
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    return next;
  }
  std::vector<std::string> names = {"input"};
  QueueScan next;
  std::atomic<int> scans{0};
  int delay_ms = 0;
};

const prometheus::MetricFamily* Find(const std::vector<prometheus::MetricFamily>& fams,
                                     const std::string& name) {
  for (const auto& f : fams) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The value of the series of `name` whose (only) label has `label_value` ("" = no label).
double Value(const std::vector<prometheus::MetricFamily>& fams, const std::string& name,
             const std::string& label_value = "") {
  const auto* f = Find(fams, name);
  if (f == nullptr) {
    ADD_FAILURE() << "no family " << name;
    return -1;
  }
  for (const auto& m : f->metric) {
    if ((m.label.empty() && label_value.empty()) ||
        (!m.label.empty() && m.label[0].value == label_value)) {
      return f->type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  ADD_FAILURE() << "no series " << name << "{" << label_value << "}";
  return -1;
}

TEST(QueueAggregate, CountsAgesAndTopK) {
  std::vector<std::shared_ptr<const QueueMessage>> msgs = {
      Msg("deferred", "a@x", "alice", 100, 1000, 900),
      Msg("deferred", "a@x", "alice", 100, 1000, 950),
      Msg("deferred", "b@x", "bob", 1, 10, 990, true),
      Msg("hold", "", "", 1, 5, 500, true),
      Msg("active", "c@x", "carol", 3, 7, 1000),
      Msg("active", "c@x", "dave", 300, 7, 1100),  // received "in the future": age 0
  };
  auto s = AggregateQueue(msgs, {"active", "deferred", "hold", "incoming", "maildrop"}, 1000, 2);
  EXPECT_EQ(5u, s.queues.size());
  EXPECT_EQ(3u, s.queues["deferred"].messages);
  EXPECT_EQ(2010u, s.queues["deferred"].bytes);
  EXPECT_EQ(201u, s.queues["deferred"].recipients);
  EXPECT_EQ(100, s.queues["deferred"].oldest_age_seconds);
  EXPECT_EQ(500, s.queues["hold"].oldest_age_seconds);
  EXPECT_EQ(0, s.queues["active"].oldest_age_seconds);
  EXPECT_EQ(0u, s.queues["maildrop"].messages);
  EXPECT_EQ(2u, s.frozen);
  EXPECT_EQ(1u, s.bounces);
  EXPECT_EQ(1u, s.frozen_bounces);
  // k = 2: two largest, then the rest summed under __other__; ties broken by name.
  EXPECT_EQ((QueueStats::TopK{{"alice", 2}, {"bob", 1}, {"__other__", 2}}), s.messages_by_owner);
  EXPECT_EQ((QueueStats::TopK{{"dave", 300}, {"alice", 200}, {"__other__", 4}}),
            s.recipients_by_owner);
  EXPECT_EQ((QueueStats::TopK{{"a@x", 2}, {"c@x", 2}, {"__other__", 2}}), s.messages_by_sender);
  // Large enough k: no __other__.
  s = AggregateQueue(msgs, {}, 1000, 20);
  EXPECT_EQ(4u, s.messages_by_owner.size());
  EXPECT_EQ(4u, s.messages_by_sender.size());  // includes "<>"
  s = AggregateQueue(msgs, {}, 1000, 0);
  EXPECT_TRUE(s.messages_by_owner.empty());
}

TEST(QueueCollector, FamiliesFromAScan) {
  auto source = std::make_unique<FakeSource>();
  source->next.ok = true;
  source->next.messages = {Msg("input", "a@x", "alice", 5, 100, 1000),
                           Msg("input", "", "", 1, 50, 400, true)};
  source->next.AddError(QueueError::kVanished);
  QueueCollector::Options o;
  ManualClock clock(1600);
  o.clock = &clock;
  QueueCollector c(std::move(source), o);
  auto fams = c.Collect();
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_messages", "input"));
  EXPECT_EQ(150, Value(fams, "mailrelay_queue_bytes", "input"));
  EXPECT_EQ(6, Value(fams, "mailrelay_queue_recipients", "input"));
  EXPECT_EQ(1200, Value(fams, "mailrelay_queue_oldest_message_age_seconds", "input"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_frozen_messages"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_bounce_messages"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_frozen_bounce_messages"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_messages_by_auth_user", "alice"));
  EXPECT_EQ(5, Value(fams, "mailrelay_queue_recipients_by_auth_user", "alice"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_messages_by_sender", "<>"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_scrape_errors_total", "vanished"));
  EXPECT_EQ(0, Value(fams, "mailrelay_queue_scrape_errors_total", "timeout"));
  EXPECT_EQ(6u, Find(fams, "mailrelay_queue_scrape_errors_total")->metric.size());
  EXPECT_EQ(0, Value(fams, "mailrelay_queue_scrape_truncated"));
  EXPECT_GE(Value(fams, "mailrelay_queue_scrape_duration_seconds"), 0);
  EXPECT_EQ(prometheus::MetricType::Counter,
            Find(fams, "mailrelay_queue_scrape_errors_total")->type);
  EXPECT_EQ(prometheus::MetricType::Gauge, Find(fams, "mailrelay_queue_messages")->type);
}

TEST(QueueCollector, ErrorsAccumulateAndFailedScansOmitQueueState) {
  auto source = std::make_unique<FakeSource>();
  FakeSource* fake = source.get();
  fake->next.ok = false;
  fake->next.AddError(QueueError::kTimeout);
  QueueCollector::Options o;
  o.min_scan_interval_seconds = 0;
  QueueCollector c(std::move(source), o);
  c.Collect();
  auto fams = c.Collect();
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_scrape_errors_total", "timeout"));
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_messages"));
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_messages_by_sender"));
  EXPECT_NE(nullptr, Find(fams, "mailrelay_queue_scrape_duration_seconds"));
  fake->next = QueueScan{};
  fake->next.ok = true;
  fake->next.truncated = true;
  fams = c.Collect();
  EXPECT_EQ(0, Value(fams, "mailrelay_queue_messages", "input"));  // empty queue: 0
  EXPECT_EQ(0, Value(fams, "mailrelay_queue_oldest_message_age_seconds", "input"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_scrape_truncated"));
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_scrape_errors_total", "timeout"));
  EXPECT_TRUE(Find(fams, "mailrelay_queue_messages_by_auth_user")->metric.empty());
}

// /-/ready without any scrape: a queue that could not be read is read again (at most every
// min scan interval) when readiness is asked, so a spool created after startup makes it ready.
TEST(QueueCollector, ReadinessRecoversWithoutAScrape) {
  auto source = std::make_unique<FakeSource>();
  FakeSource* fake = source.get();
  fake->next.ok = false;
  fake->next.AddError(QueueError::kDirectory);
  ManualClock clock(1600);
  QueueCollector::Options o;
  o.min_scan_interval_seconds = 5;
  o.clock = &clock;
  QueueCollector c(std::move(source), o);
  std::string why;
  EXPECT_FALSE(c.Ready(&why));
  EXPECT_EQ("1 directory error", why);
  EXPECT_EQ(1, fake->scans.load());
  fake->next = QueueScan{};
  fake->next.ok = true;
  EXPECT_FALSE(c.Ready(&why));  // within the interval: the last result
  EXPECT_EQ(1, fake->scans.load());
  clock.Advance(std::chrono::seconds(5));
  EXPECT_TRUE(c.Ready(&why)) << why;
  EXPECT_EQ(2, fake->scans.load());
  clock.Advance(std::chrono::seconds(5));
  EXPECT_TRUE(c.Ready(&why));  // ready: no read of its own, scrapes keep it fresh
  EXPECT_EQ(2, fake->scans.load());
}

TEST(QueueCollector, ConcurrentScrapesShareOneScan) {
  auto source = std::make_unique<FakeSource>();
  FakeSource* fake = source.get();
  fake->next.ok = true;
  fake->next.messages = {Msg("input", "a@x", "alice", 1, 1, 1)};
  fake->delay_ms = 200;
  // Scrapes that arrive while the scan runs wait for it; one that comes later (a slow thread on
  // a loaded machine) is served from the cache, which lasts the whole test here: so one scan,
  // whatever the timing. Without the sharing, the scrapes arriving during the 200 ms would
  // each scan.
  QueueCollector::Options o;
  o.min_scan_interval_seconds = 3600;
  QueueCollector c(std::move(source), o);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto fams = c.Collect();
      if (Find(fams, "mailrelay_queue_messages") != nullptr) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(8, ok.load());
  EXPECT_EQ(1, fake->scans.load());
  EXPECT_EQ(1u, c.scans());
}

TEST(QueueCollector, TopKZeroDisablesPerUserFamilies) {
  auto source = std::make_unique<FakeSource>();
  source->next.ok = true;
  source->next.messages = {Msg("input", "a@x", "alice", 1, 1, 1)};
  QueueCollector::Options o;
  o.top_k = 0;
  QueueCollector c(std::move(source), o);
  auto fams = c.Collect();
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_messages_by_auth_user"));
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_messages_by_sender"));
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_recipients_by_auth_user"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_messages", "input"));
}

TEST(QueueSources, EximBpThroughACommand) {
  // /bin/cat stands in for exim: it prints a real Exim 4.96 listing (saved to a file).
  char path[] = "/tmp/mailrelay-bp-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "2644d  2.2K 1i2t1o-0000cD-CV <> *** frozen ***\n"
                         "          root@schlittermann.de\n\n"
                         "1247d   317 1qDO9M-0003B3-2p <nobody@test.ex>\n"
                         "          nulldeliver@test.ex\n"
                         "        D done@test.ex\n\n"
                         "1013d   173 1ra7OS-004XaW-CD <>\n"
                         "    *** spool format error: size=1276 ***\n"
                         "          mailer@mail.bogus\n\n"
                         "   12M 1xV64o-0004Rx-1D\n"
                         "    *** spool read error: Permission denied ***\n\n";
  QueueCollector::Options o;
  ManualClock clock(2000000000);
  o.clock = &clock;
  QueueCollector c(std::make_unique<EximBpSource>(std::vector<std::string>{"/bin/cat", path},
                                                  CommandOptions{}, clock),
                   o);
  auto fams = c.Collect();
  ::unlink(path);
  // The entry with a spool format error is still a message (Exim lists it; so does the
  // spool reader), and counts a parse error.
  EXPECT_EQ(3, Value(fams, "mailrelay_queue_messages", "input"));
  EXPECT_EQ(3, Value(fams, "mailrelay_queue_recipients", "input"));
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_bounce_messages"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_frozen_messages"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_frozen_bounce_messages"));
  EXPECT_EQ(2644 * 86400, Value(fams, "mailrelay_queue_oldest_message_age_seconds", "input"));
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_scrape_errors_total", "parse"));
  EXPECT_TRUE(Find(fams, "mailrelay_queue_messages_by_auth_user")->metric.empty());
}

TEST(QueueSources, HangingEximBpIsATimeoutNotAFailedScrape) {
  CommandOptions co;
  co.timeout_seconds = 0.3;
  ManualClock clock;
  QueueCollector c(
      std::make_unique<EximBpSource>(std::vector<std::string>{"/bin/sleep", "30"}, co, clock),
      QueueCollector::Options{});
  // sleep 30 would end by itself (exit 0): only the kill at the timeout makes it a timeout
  // error. No bound on how long that took: a loaded machine may be slow.
  auto fams = c.Collect();
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_scrape_errors_total", "timeout"));
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_messages"));
  EXPECT_GT(Value(fams, "mailrelay_queue_scrape_duration_seconds"), 0.0);

  QueueCollector missing(std::make_unique<EximBpSource>(
                             std::vector<std::string>{"/nonexistent/exim", "-bp"}, co, clock),
                         QueueCollector::Options{});
  fams = missing.Collect();
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_scrape_errors_total", "command"));
}

// A stand-in `exim -bp` shell script: prints the first message of a listing, then (until
// the flag file exists) hangs with its output pipe open, as an exim stuck on a spool lock
// would; once the flag exists it prints the whole listing and exits.
TEST(QueueSources, HangingEximBpScriptTimesOutAndTheNextScrapeRecovers) {
  char dir[] = "/tmp/mailrelay-fake-exim-XXXXXX";
  ASSERT_NE(nullptr, ::mkdtemp(dir));
  std::string script = std::string(dir) + "/exim";
  std::string flag = std::string(dir) + "/fixed";
  std::ofstream(script) << "#!/bin/sh\n"
                           "echo '  25m  1.2K 1xV65m-0004ZK-01 <a@example.com>'\n"
                           "echo '          r1@example.com'\n"
                           "echo\n"
                           "[ -e '"
                        << flag
                        << "' ] || exec sleep 30\n"
                           "echo '   3h   600 1xV65m-0004ZK-02 <> *** frozen ***'\n"
                           "echo '          r2@example.com'\n"
                           "echo '          r3@example.com'\n";
  ASSERT_EQ(0, ::chmod(script.c_str(), 0755));
  CommandOptions co;
  co.timeout_seconds = 0.5;
  QueueCollector::Options o;
  o.min_scan_interval_seconds = 0;
  ManualClock clock(2000000000);
  o.clock = &clock;
  QueueCollector c(
      std::make_unique<EximBpSource>(std::vector<std::string>{script, "-bp"}, co, clock), o);
  // exec sleep 30 would end by itself: a timeout error means it was killed (no bound on how
  // long that took: the machine may be loaded).
  auto fams = c.Collect();
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_scrape_errors_total", "timeout"));
  EXPECT_EQ(0, Value(fams, "mailrelay_queue_scrape_errors_total", "command"));
  // The half listing is not reported as the queue.
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_messages"));
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_frozen_messages"));

  std::ofstream(flag) << "";
  fams = c.Collect();
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_scrape_errors_total", "timeout"));  // a counter
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_messages", "input"));
  EXPECT_EQ(3, Value(fams, "mailrelay_queue_recipients", "input"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_frozen_messages"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_bounce_messages"));
  EXPECT_EQ(3 * 3600, Value(fams, "mailrelay_queue_oldest_message_age_seconds", "input"));
  std::filesystem::remove_all(dir);
}

// Bad files in a real spool directory, read by the spool scanner through the collector: each
// counts under its reason, the scrape succeeds, and the queue families describe the rest.
TEST(QueueSources, SpoolWithBadFilesStillScrapesTheRest) {
  char root[] = "/tmp/mailrelay-bad-spool-XXXXXX";
  ASSERT_NE(nullptr, ::mkdtemp(root));
  std::string input = std::string(root) + "/input";
  std::filesystem::create_directory(input);
  auto header = [](const std::string& id, const std::string& sender, const std::string& auth,
                   int rcpts) {
    std::string h =
        id + "-H\nmail 8 8\n<" + sender + ">\n1999999000 0\n-host_address 192.0.2.1.25\n";
    if (!auth.empty()) h += "--auth_id " + auth + "\n";
    h += "XX\n" + std::to_string(rcpts) + "\n";
    for (int i = 0; i < rcpts; ++i) h += "r" + std::to_string(i) + "@example.com\n";
    return h + "\n018T To: a@example.com\n";
  };
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(input + "/" + name, std::ios::binary) << text;
  };
  write("1xV65m-0004ZK-01-H", header("1xV65m-0004ZK-01", "a@x", "alice", 2));
  write("1xV65m-0004ZK-01-D", "1xV65m-0004ZK-01-D\n" + std::string(100, 'b'));
  write("1xV65m-0004ZK-02-H", header("1xV65m-0004ZK-02", "", "", 1));
  write("1xV65m-0004ZK-03-H",
        "\x7f"
        "ELF\1\1\1 garbage");                                                              // parse
  write("1xV65m-0004ZK-04-H", header("1xV65m-0004ZK-04", "b@x", "bob", 3).substr(0, 40));  // parse
  ASSERT_EQ(0, ::mkfifo((input + "/1xV65m-0004ZK-05-H").c_str(), 0644));                   // open
  std::filesystem::create_symlink(input + "/gone", input + "/1xV65m-0004ZK-06-H");         // open
  write("1xV65m-0004ZK-07-H", header("1xV65m-0004ZK-07", "c@x", "carol", 1));  // vanishes
  EximSpoolScanner::Options so;
  so.input_dir = input;
  so.before_open = [&](const std::string& name) {
    if (name == "1xV65m-0004ZK-07-H") std::filesystem::remove(input + "/" + name);
  };
  QueueCollector::Options o;
  ManualClock clock(2000000000);
  o.clock = &clock;
  QueueCollector c(std::make_unique<EximSpoolScanner>(so), o);
  auto fams = c.Collect();
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_messages", "input"));
  EXPECT_EQ(3, Value(fams, "mailrelay_queue_recipients", "input"));
  // 18 header bytes each; the first also has a -D of 119 bytes (its 19-byte first line, not
  // counted, then 100): 18 + 119 - 19 + 1 as exim -bp counts; the second has no -D.
  EXPECT_EQ((18 + 119 - 19 + 1) + 18, Value(fams, "mailrelay_queue_bytes", "input"));
  EXPECT_EQ(1000, Value(fams, "mailrelay_queue_oldest_message_age_seconds", "input"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_bounce_messages"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_messages_by_auth_user", "alice"));
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_scrape_errors_total", "parse"));
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_scrape_errors_total", "open"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_scrape_errors_total", "vanished"));
  EXPECT_EQ(0, Value(fams, "mailrelay_queue_scrape_errors_total", "directory"));
  EXPECT_EQ(0, Value(fams, "mailrelay_queue_scrape_truncated"));
  std::filesystem::remove_all(root);
}

TEST(QueueSources, PostqueueThroughACommandExportsEveryQueue) {
  // tests/testdata/postfix/postqueue-j.jsonl: every queue, two null senders (see its golden).
  QueueCollector::Options o;
  const std::int64_t now = 1772800000;
  ManualClock clock(now);
  o.clock = &clock;
  QueueCollector q(
      std::make_unique<PostqueueSource>(
          std::vector<std::string>{"/bin/cat", kTestdata + "/postfix/postqueue-j.jsonl"},
          CommandOptions{}),
      o);
  auto fams = q.Collect();
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_messages", "active"));
  EXPECT_EQ(3, Value(fams, "mailrelay_queue_messages", "deferred"));
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_messages", "hold"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_messages", "incoming"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_messages", "maildrop"));
  EXPECT_EQ(5u, Find(fams, "mailrelay_queue_messages")->metric.size());
  EXPECT_EQ(600 + 3000 + 2048, Value(fams, "mailrelay_queue_bytes", "deferred"));
  EXPECT_EQ(3 + 1 + 1, Value(fams, "mailrelay_queue_recipients", "deferred"));
  EXPECT_EQ(now - 1772704801,
            Value(fams, "mailrelay_queue_oldest_message_age_seconds", "deferred"));
  EXPECT_EQ(now - 1772791201, Value(fams, "mailrelay_queue_oldest_message_age_seconds", "active"));
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_messages_by_sender", "<>"));
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_messages_by_sender", "ceo@bank.example"));
  EXPECT_EQ(2, Value(fams, "mailrelay_queue_bounce_messages"));
  EXPECT_EQ(0, Value(fams, "mailrelay_queue_frozen_messages"));
  EXPECT_EQ(0, Value(fams, "mailrelay_queue_scrape_errors_total", "parse"));
}

// A queue command that hangs must not delay or fail the scrape: with the command-based reader
// in the background, /metrics answers at once with the log counters while the command is still
// running (no scan has completed), and the queue families appear once it finishes. No timing:
// the stand-in exim waits for a release file the test creates after the scrape.
TEST(QueueCollector, HungQueueCommandDoesNotDelayTheScrape) {
  char dir[] = "/tmp/mailrelay-hung-exim-XXXXXX";
  ASSERT_NE(nullptr, ::mkdtemp(dir));
  const std::string started = std::string(dir) + "/started";
  const std::string release = std::string(dir) + "/release";
  const std::string script = std::string(dir) + "/exim";
  std::ofstream(script) << "#!/bin/sh\n"
                           ": > '"
                        << started
                        << "'\n"
                           "while [ ! -e '"
                        << release
                        << "' ]; do sleep 0.05; done\n"
                           "echo '  25m  1.2K 1xV65m-0004ZK-01 <a@example.com>'\n"
                           "echo '          r1@example.com'\n";
  ASSERT_EQ(0, ::chmod(script.c_str(), 0755));

  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter()
      .Name("mailrelay_log_lines_total")
      .Help("h")
      .Register(*registry)
      .Add({{"log", "exim_mainlog"}})
      .Increment(7);
  CommandOptions co;
  co.timeout_seconds = 600;  // the hang is ended by the test, not by the timeout
  ManualClock clock(2000000000);
  QueueCollector::Options o;
  o.background = true;
  o.refresh_interval_seconds = 3600;
  o.clock = &clock;
  auto queue = std::make_shared<QueueCollector>(
      std::make_unique<EximBpSource>(std::vector<std::string>{script, "-bp"}, co, clock), o);
  HttpServer::Options ho;
  ho.listen_address = "127.0.0.1:0";
  HttpServer http(ho, nullptr);
  http.AddCollectable(registry);
  http.AddCollectable(queue);
  std::string error;
  ASSERT_TRUE(StatusOk(http.Start(), &error)) << error;
  while (!std::filesystem::exists(started))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));

  std::string page = HttpGet(http.ListeningPorts().front(), "/metrics");
  EXPECT_EQ(0u, queue->scans());  // the command is still running: the scrape did not wait
  EXPECT_NE(std::string::npos, page.find("HTTP/1.1 200"));
  EXPECT_NE(std::string::npos, page.find("mailrelay_log_lines_total{log=\"exim_mainlog\"} 7"));
  EXPECT_NE(std::string::npos,
            page.find("mailrelay_queue_scrape_errors_total{reason=\"timeout\"} 0"));
  EXPECT_EQ(std::string::npos, page.find("mailrelay_queue_messages{"));
  EXPECT_EQ(std::string::npos, page.find("mailrelay_queue_snapshot_age_seconds"));

  std::ofstream(release) << "";
  queue->WaitForScans(1);
  page = HttpGet(http.ListeningPorts().front(), "/metrics");
  EXPECT_NE(std::string::npos, page.find("mailrelay_queue_messages{queue=\"input\"} 1"));
  EXPECT_NE(std::string::npos, page.find("mailrelay_queue_snapshot_age_seconds "));
  http.Stop();
  std::filesystem::remove_all(dir);
}

// A reader that throws is caught: counted, logged, and the scrape goes on without queue state.
TEST(QueueCollector, AThrowingReaderIsCountedNotFatal) {
  class Throwing : public QueueSource {
   public:
    std::vector<std::string> QueueNames() const override { return {"input"}; }
    QueueScan Scan() override { throw std::runtime_error("io_uring setup: out of memory"); }
  };
  QueueCollector::Options o;
  o.min_scan_interval_seconds = 0;
  QueueCollector c(std::make_unique<Throwing>(), o);
  c.Collect();
  auto fams = c.Collect();
  EXPECT_EQ(2, Value(fams, "mailrelay_collector_errors_total", "queue"));
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_messages"));
  EXPECT_NE(nullptr, Find(fams, "mailrelay_queue_scrape_errors_total"));
}

TEST(QueueSources, PostfixModuleRunsPostqueueInTheBackground) {
  CommandLine cl;
  const char* argv[] = {"x", "--mta=postfix", "--postfix.queue-source=postqueue",
                        "--postfix.postqueue-binary=/bin/cat"};
  ASSERT_TRUE(cl.Parse(4, argv, kExporterScope).ok());
  ManualClock clock;
  auto reader = cl.mta()->MakeQueueReader(MakeMtaContext(cl.options, RunMode::kLive, clock));
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_EQ("/bin/cat -j", reader->description);
  EXPECT_TRUE(reader->background);
  QueueCollector::Options o;
  o.background = true;
  o.refresh_interval_seconds = 3600;
  o.clock = &clock;
  QueueCollector c(std::move(reader->source), o);
  c.WaitForScans(1);
  // The module's command is "<binary> -j": /bin/cat fails on "-j", a command error.
  auto fams = c.Collect();
  EXPECT_EQ(1, Value(fams, "mailrelay_queue_scrape_errors_total", "command"));
  EXPECT_EQ(nullptr, Find(fams, "mailrelay_queue_messages"));
}

TEST(QueueConfig, Flags) {
  CommandLine c;
  const char* argv[] = {"x",
                        "--mta=exim",
                        "--exim.spool-dir=/tmp/spool",
                        "--exim.queue-source=bp",
                        "--exim.binary",
                        "/usr/sbin/exim4",
                        "--queue.top-k=5",
                        "--queue.max-files=1000",
                        "--queue.command-timeout=2s",
                        "--queue.scan-threads=1",
                        "--no-queue.io-uring"};
  Status parsed = c.Parse(static_cast<int>(std::size(argv)), argv, kExporterScope);
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ(5u, c.options.queue.top_k);
  EXPECT_EQ(1000u, c.options.queue.max_files);
  EXPECT_EQ(2, c.options.queue.command_timeout_seconds);
  EXPECT_EQ(1u, c.options.queue.scan_threads);
  EXPECT_FALSE(c.options.queue.io_uring);
  // The Exim module took its flags: its reader runs /usr/sbin/exim4 -bp in the background.
  ManualClock clock;
  auto reader = c.mta()->MakeQueueReader(MakeMtaContext(c.options, RunMode::kLive, clock));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ("/usr/sbin/exim4 -bp", reader->description);
  EXPECT_TRUE(reader->background);

  CommandLine d;
  const char* none[] = {"x", "--mta=exim"};
  ASSERT_TRUE(d.Parse(2, none, kExporterScope).ok());
  EXPECT_EQ(20u, d.options.queue.top_k);
  EXPECT_EQ(0u, d.options.queue.scan_threads);  // automatic
  EXPECT_TRUE(d.options.queue.io_uring);
  // Defaults: the spool, read at the scrape; --oneshot without --exim.spool-dir reads none.
  reader = d.mta()->MakeQueueReader(MakeMtaContext(d.options, RunMode::kLive, clock));
  ASSERT_TRUE(reader.ok());
  EXPECT_NE(nullptr, reader->source);
  EXPECT_FALSE(reader->background);
  reader = d.mta()->MakeQueueReader(MakeMtaContext(d.options, RunMode::kOneshot, clock));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(nullptr, reader->source);
  for (const char* bad :
       {"--exim.queue-source=exim", "--queue.max-files=0", "--queue.command-timeout=0",
        "--queue.top-k=-1", "--queue.scan-threads=65", "--queue.io-uring=maybe"}) {
    const char* args[] = {"x", bad};
    CommandLine e;
    EXPECT_FALSE(e.Parse(2, args, kExporterScope).ok()) << bad;
  }
  EXPECT_EQ("/nonexistent/x", exim::InputDir("/nonexistent/x/"));
  EXPECT_EQ("/tmp", exim::InputDir("/tmp"));
  EXPECT_EQ("/var/spool/exim4/input", exim::InputDir("/var/spool/exim4/input/"));
  // A spool root whose input/ does not exist yet (no message received so far) still maps to
  // input/, so the exporter finds the queue once Exim creates it.
  char root[] = "/tmp/spoolrootXXXXXX";
  ASSERT_NE(nullptr, mkdtemp(root));
  std::string msglog = std::string(root) + "/msglog";
  ASSERT_EQ(0, mkdir(msglog.c_str(), 0700));
  EXPECT_EQ(std::string(root) + "/input", exim::InputDir(root));
  rmdir(msglog.c_str());
  rmdir(root);
}

}  // namespace
}  // namespace mailrelay
