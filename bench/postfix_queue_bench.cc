// Postfix queue benchmark: the exporter's queue file reader (PostfixQueueScanner) against
// `postqueue -j` on the same queue, in one run (bench/postfix_queue_bench.sh builds the queue
// with bench/make_postfix_queue.py and runs a private Postfix master whose only service is
// showq, so nothing but the readers touches the queue). Plain timing main.
//
//   postfix_queue_bench --queue-directory DIR --postqueue BIN [--showq-pid PID]
//                       [--manifest FILE] [--repeat N] [--rescans N]
//
// BIN runs `postqueue` for the private Postfix (a wrapper setting MAIL_CONFIG); PID is its
// showq daemon, whose CPU time (/proc/PID/stat) is added to postqueue's own: postqueue only
// formats what showq, a separate process, reads from the queue files. Steps:
//   0. warm-up       every queue file read once, untimed (as in queue_scan_bench.cc: the first
//                    reader of never-read files would pay relatime's atime updates)
//   1. N rounds (--repeat, default 3) of: a first scan by a fresh scanner (every file parsed;
//      the heap given back to the kernel before it), then `postqueue -j`; medians reported
//   2. rescans       the last scanner again on the unchanged queue (median / max of --rescans):
//                    the directories are older than the 2 s settle time, so only active/ is
//                    listed and its files stat'ed
//   3. listed rescans  a scanner with trust_directory_mtime = false: every directory listed
//                    and every file stat'ed, parsed results from the cache (a changed queue)
//   4. exporter refreshes  a QueueCollector over a fresh scanner (top k 20, as the exporter's
//                    default), one untimed first collection, then --rescans timed Collect():
//                    what the exporter's background thread does every --queue.refresh-interval
//                    on the unchanged queue (the rescan, the per-queue/owner/sender aggregation
//                    of every message, the families) plus one scrape's copy of them
// Checks the readers against each other and the manifest (messages, recipients, bytes, per
// queue, top owner). Prints "key value" lines; exit 1 when a check fails, 2 on errors.
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "mta/postfix/postqueue_json_parser.h"
#include "mta/postfix/queue_scanner.h"
#include "queue/queue_collector.h"

namespace {

using mailrelay::PostfixQueueScanner;
using mailrelay::QueueScan;
using mailrelay::bench::Check;
using mailrelay::bench::Median;
using mailrelay::bench::Now;
using mailrelay::bench::Run;
using mailrelay::bench::RunResult;
using mailrelay::bench::SelfCpu;

// Every directory under the queues, the queues included.
std::vector<std::string> Directories(const std::string& root) {
  std::vector<std::string> out;
  std::vector<std::string> todo;
  for (const char* q : {"maildrop", "incoming", "active", "deferred", "hold"}) {
    todo.push_back(root + "/" + q);
  }
  while (!todo.empty()) {
    std::string d = todo.back();
    todo.pop_back();
    out.push_back(d);
    DIR* dir = ::opendir(d.c_str());
    if (dir == nullptr) continue;
    while (dirent* de = ::readdir(dir)) {
      std::string name = de->d_name;
      if (name.size() == 1 && name != "." && de->d_type == DT_DIR) todo.push_back(d + "/" + name);
    }
    ::closedir(dir);
  }
  return out;
}

// utime + stime of a process, in seconds; -1 when it cannot be read.
double ProcessCpu(long pid) {
  if (pid <= 0) return -1;
  std::string stat = mailrelay::bench::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  std::string queue_directory, postqueue, manifest_path;
  long showq_pid = -1;
  int repeat = 3;
  int rescans = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    std::string v = argv[i + 1];
    if (a == "--queue-directory") {
      queue_directory = v;
    } else if (a == "--postqueue") {
      postqueue = v;
    } else if (a == "--showq-pid") {
      showq_pid = std::atol(v.c_str());
    } else if (a == "--manifest") {
      manifest_path = v;
    } else if (a == "--repeat") {
      repeat = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--rescans") {
      rescans = std::max(1, std::atoi(v.c_str()));
    } else {
      std::cerr << "postfix_queue_bench: unknown flag " << a << "\n";
      return 2;
    }
  }
  if (queue_directory.empty() || postqueue.empty() || argc % 2 == 0) {
    std::cerr << "usage: postfix_queue_bench --queue-directory DIR --postqueue BIN "
                 "[--showq-pid PID] [--manifest FILE] [--repeat N] [--rescans N]\n";
    return 2;
  }
  auto manifest = manifest_path.empty() ? std::map<std::string, std::string>{}
                                        : mailrelay::bench::ReadManifest(manifest_path);
  std::vector<std::string> dirs = Directories(queue_directory);
  mailrelay::bench::WaitSettled(dirs, PostfixQueueScanner::kDirectorySettleSeconds);
  std::cout.setf(std::ios::fixed);
  std::cout.precision(6);
  std::cout << "warmup_files "
            << mailrelay::bench::WarmUp(dirs, [](const std::string&) { return true; }) << "\n";

  PostfixQueueScanner::Options opt;
  opt.queue_directory = queue_directory;
  opt.max_files = 100000000;
  std::unique_ptr<PostfixQueueScanner> scanner;
  QueueScan first;
  std::vector<double> scan_wall, scan_cpu, pq_wall, pq_cpu, pq_self_cpu;
  RunResult pq;
  for (int round = 1; round <= repeat; ++round) {
    scanner.reset();
    first = QueueScan{};
    scanner = std::make_unique<PostfixQueueScanner>(opt);
    ::malloc_trim(0);
    double cpu0 = SelfCpu();
    double t0 = Now();
    first = scanner->Scan();
    scan_wall.push_back(Now() - t0);
    scan_cpu.push_back(SelfCpu() - cpu0);
    double showq0 = ProcessCpu(showq_pid);
    pq = Run({postqueue, "-j"});
    if (!pq.ok) return 2;
    double showq1 = ProcessCpu(showq_pid);
    double showq = showq0 >= 0 && showq1 >= showq0 ? showq1 - showq0 : 0;
    pq_wall.push_back(pq.wall);
    pq_self_cpu.push_back(pq.cpu);
    pq_cpu.push_back(pq.cpu + showq);
    std::cout << "scan_first_wall_seconds_round" << round << " " << scan_wall.back() << "\n"
              << "scan_first_cpu_seconds_round" << round << " " << scan_cpu.back() << "\n"
              << "postqueue_wall_seconds_round" << round << " " << pq_wall.back() << "\n"
              << "postqueue_cpu_seconds_round" << round << " " << pq_cpu.back() << "\n";
  }
  const auto& stats = scanner->last_stats();
  std::uint64_t scan_errors = 0;
  for (auto e : first.errors) scan_errors += e;
  std::cout << "repeat " << repeat << "\n"
            << "scan_first_wall_seconds " << Median(scan_wall) << "\n"
            << "scan_first_cpu_seconds " << Median(scan_cpu) << "\n"
            << "scan_first_files_read " << stats.files_read << "\n"
            << "scan_first_bytes_read " << stats.bytes_read << "\n"
            << "scan_first_extra_reads " << stats.extra_reads << "\n"
            << "scan_messages " << first.messages.size() << "\n"
            << "scan_errors " << scan_errors << "\n"
            << "postqueue_wall_seconds " << Median(pq_wall) << "\n"
            << "postqueue_cpu_seconds " << Median(pq_cpu) << "\n"
            << "postqueue_process_cpu_seconds " << Median(pq_self_cpu) << "\n"
            << "postqueue_showq_measured " << (showq_pid > 0 ? 1 : 0) << "\n"
            << "postqueue_output_bytes " << pq.out.size() << "\n";

  // Rescans of the unchanged queue, then with every directory listed.
  std::vector<double> re =
      mailrelay::bench::UnchangedRescans(*scanner, rescans, first.messages.size());
  PostfixQueueScanner::Options lopt = opt;
  lopt.trust_directory_mtime = false;
  PostfixQueueScanner listed(lopt);
  std::vector<double> lre = mailrelay::bench::ListedRescans(listed, rescans, first.messages.size());

  // The exporter's refresh of the unchanged queue: scan + aggregation + families.
  mailrelay::QueueCollector::Options copt;
  copt.top_k = 20;
  copt.min_scan_interval_seconds = 0;  // every Collect() scans
  mailrelay::QueueCollector collector(std::make_unique<PostfixQueueScanner>(opt), copt);
  std::size_t collected_families = collector.Collect().size();
  std::vector<double> col, col_cpu;
  for (int i = 0; i < rescans; ++i) {
    double t0 = Now();
    double c0 = SelfCpu();
    if (collector.Collect().size() != collected_families) ++mailrelay::bench::Failures();
    col.push_back(Now() - t0);
    col_cpu.push_back(SelfCpu() - c0);
  }
  std::cout << "collector_refresh_median_seconds " << Median(col) << "\n"
            << "collector_refresh_cpu_median_seconds " << Median(col_cpu) << "\n"
            << "collector_families " << collected_families << "\n";

  double ratio_first = Median(pq_wall) / Median(scan_wall);
  std::cout << "ratio_postqueue_wall_over_first_scan " << ratio_first << "\n"
            << "ratio_postqueue_cpu_over_first_scan " << Median(pq_cpu) / Median(scan_cpu) << "\n"
            << "ratio_postqueue_wall_over_rescan " << Median(pq_wall) / Median(re) << "\n"
            << "ratio_postqueue_wall_over_listed_rescan " << Median(pq_wall) / Median(lre) << "\n";

  // Checks: the readers against each other and the manifest.
  mailrelay::PostqueueListing listing = mailrelay::ParsePostqueueJson(pq.out);
  std::uint64_t pq_rcpt = 0, pq_bytes = 0, scan_rcpt = 0, scan_bytes = 0;
  std::map<std::string, std::uint64_t> pq_queues, scan_queues;
  for (const auto& e : listing.entries) {
    pq_rcpt += e.recipients.size();
    pq_bytes += e.message_size;
    ++pq_queues[e.queue_name];
  }
  for (const auto& m : first.messages) {
    scan_rcpt += m->recipients;
    scan_bytes += m->size_bytes;
    ++scan_queues[m->queue];
  }
  Check("scan_errors", "0", std::to_string(scan_errors));
  Check("postqueue_bad_lines", "0", std::to_string(listing.bad_lines));
  Check("messages_scan_vs_postqueue", std::to_string(listing.entries.size()),
        std::to_string(first.messages.size()));
  Check("recipients_scan_vs_postqueue", std::to_string(pq_rcpt), std::to_string(scan_rcpt));
  Check("bytes_scan_vs_postqueue", std::to_string(pq_bytes), std::to_string(scan_bytes));
  for (const char* q : {"maildrop", "incoming", "active", "deferred", "hold"}) {
    Check(std::string("queue_") + q + "_scan_vs_postqueue", std::to_string(pq_queues[q]),
          std::to_string(scan_queues[q]));
  }
  if (!manifest.empty()) {
    Check("messages_manifest", manifest["messages"], std::to_string(first.messages.size()));
    Check("recipients_manifest", manifest["recipients"], std::to_string(scan_rcpt));
    Check("bytes_manifest", manifest["bytes"], std::to_string(scan_bytes));
    auto agg = mailrelay::AggregateQueue(first.messages, scanner->QueueNames(),
                                         static_cast<std::int64_t>(std::time(nullptr)), 20);
    Check("top_owner_manifest", manifest["top_owner"] + "=" + manifest["top_owner_messages"],
          agg.messages_by_owner.empty() ? std::string()
                                        : agg.messages_by_owner[0].first + "=" +
                                              std::to_string(agg.messages_by_owner[0].second));
  }
  int failures = mailrelay::bench::Failures();
  std::cout << "checks " << (failures == 0 ? "passed" : "FAILED") << "\n";
  return failures == 0 ? 0 : 1;
}
