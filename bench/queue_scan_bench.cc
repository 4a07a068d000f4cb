// Queue scan benchmark (issue 3): the exporter's Exim spool reader against `exim -bp` and
// `exim -bpc` on the same spool, in one run. Plain timing main (no Google Benchmark): a
// "first scan" happens once by definition, and the exim runs take seconds each.
//
//   queue_scan_bench --spool DIR [--exim BIN --config FILE] [--manifest FILE] [--rescans N]
//                    [--repeat N]
//
// DIR is a spool directory holding input/ (bench/make_spool.py builds one); FILE a minimal
// Exim configuration whose spool_directory is DIR. Steps, in this order:
//   0. warm-up            every -H file read once, untimed (see bench_util.h WarmUp)
//   1. exim -bpc          (wall and CPU time of the child; output parsed: the count)
//   2. N rounds (--repeat, default 3) of, in turn:
//        first scan       EximSpoolScanner::Scan() on a fresh scanner (every -H parsed), with
//                         the default options (threads = 0: automatic; io_uring when allowed)
//        first scan, 1 thread   the same with Options::threads = 1
//        first scan, plain      threads = 1 and io_uring = false (a system call per operation)
//        exim -bp         (listing written to a temporary file, then counted: messages, frozen)
//      reported as the median of the N rounds (wall and CPU each), and every round too. Before
//      each first scan the heap's free memory is given back to the kernel (malloc_trim), so
//      that every first scan, like that of a new exporter process, pays for fresh pages
//   4. rescans            the last first-scan scanner again on the unchanged spool (median / max
//                         of N);
//                         the spool directories' mtimes are older than the scanner's 2 s
//                         settle time, so a rescan only stats the directories
//   5. listed rescans     a second scanner with trust_directory_mtime = false, after its own
//                         first scan: every rescan lists the directories and stats every -H
//                         (what a rescan costs when the queue has changed; parsed files still
//                         come from the cache)
// and checks the results against each other and the manifest of make_spool.py (messages,
// frozen, bounces, frozen bounces, recipients, top owner). Prints "key value" lines; exit
// status 1 when a check fails, 2 on usage or run errors.
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "mta/exim/spool_scanner.h"
#include "queue/queue_collector.h"

namespace {

using mailrelay::EximSpoolScanner;
using mailrelay::QueueScan;
using mailrelay::bench::Check;
using mailrelay::bench::Median;
using mailrelay::bench::Now;
using mailrelay::bench::ReadManifest;
using mailrelay::bench::Run;
using mailrelay::bench::RunResult;
using mailrelay::bench::SelfCpu;

struct BpCounts {
  std::uint64_t messages = 0;
  std::uint64_t frozen = 0;
  std::uint64_t bounces = 0;
  std::uint64_t undelivered = 0;
  std::uint64_t spool_errors = 0;
};

// Counts an `exim -bp` listing: message lines start with an age ("25m", "3h", "2d").
BpCounts CountBp(const std::string& text) {
  BpCounts c;
  std::istringstream in(text);
  std::string line;
  bool in_message = false;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string first;
    f >> first;
    if (first.empty()) {
      in_message = false;
      continue;
    }
    char unit = first.back();
    bool is_age =
        first.size() >= 2 && (unit == 'm' || unit == 'h' || unit == 'd') &&
        std::all_of(first.begin(), first.end() - 1, [](char ch) { return ch >= '0' && ch <= '9'; });
    if (is_age) {
      ++c.messages;
      in_message = true;
      if (line.find("*** frozen ***") != std::string::npos) ++c.frozen;
      if (line.find(" <> ") != std::string::npos ||
          (line.size() >= 3 && line.compare(line.size() - 3, 3, " <>") == 0)) {
        ++c.bounces;
      }
      continue;
    }
    if (line.find("spool format error") != std::string::npos ||
        line.find("spool read error") != std::string::npos) {
      ++c.spool_errors;
      continue;
    }
    if (in_message && first != "D" && first != "+D") ++c.undelivered;
  }
  return c;
}

// The spool directories: input/ and the split ones, input/<c>/.
std::vector<std::string> SpoolDirectories(const std::string& input_dir) {
  std::vector<std::string> dirs{input_dir};
  for (char c : std::string("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")) {
    dirs.push_back(input_dir + "/" + c);
  }
  return dirs;
}

int& failures = mailrelay::bench::Failures();

}  // namespace

int main(int argc, char** argv) {
  std::string spool, exim, config, manifest_path;
  int rescans = 20;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      *out = argv[++i];
    };
    if (a == "--spool") {
      value(&spool);
    } else if (a == "--exim") {
      value(&exim);
    } else if (a == "--config") {
      value(&config);
    } else if (a == "--manifest") {
      value(&manifest_path);
    } else if (a == "--rescans") {
      std::string v;
      value(&v);
      rescans = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--repeat") {
      std::string v;
      value(&v);
      repeat = std::max(1, std::atoi(v.c_str()));
    } else {
      std::cerr << "usage: queue_scan_bench --spool DIR [--exim BIN --config FILE] "
                   "[--manifest FILE] [--rescans N] [--repeat N]\n";
      return 2;
    }
  }
  if (spool.empty() || (!exim.empty() && config.empty())) {
    std::cerr << "queue_scan_bench: --spool is required, --exim needs --config\n";
    return 2;
  }
  std::string input = spool + "/input";
  auto manifest =
      manifest_path.empty() ? std::map<std::string, std::string>{} : ReadManifest(manifest_path);
  mailrelay::bench::WaitSettled(SpoolDirectories(input), EximSpoolScanner::kDirectorySettleSeconds);
  std::cout.setf(std::ios::fixed);
  std::cout.precision(6);
  std::cout << "warmup_files "
            << mailrelay::bench::WarmUp(SpoolDirectories(input),
                                        [](const std::string& name) {
                                          return name.size() >= 3 &&
                                                 name.compare(name.size() - 2, 2, "-H") == 0;
                                        })
            << "\n";

  // 1. exim -bpc
  RunResult bpc;
  if (!exim.empty()) {
    bpc = Run({exim, "-C", config, "-bpc"});
    if (!bpc.ok) return 2;
    std::cout << "exim_bpc_wall_seconds " << bpc.wall << "\n"
              << "exim_bpc_cpu_seconds " << bpc.cpu << "\n"
              << "exim_bpc_count " << std::strtoull(bpc.out.c_str(), nullptr, 10) << "\n";
  }

  // 2. rounds of: first scan (default threads), first scan (1 thread), exim -bp
  EximSpoolScanner::Options opt;
  opt.input_dir = input;
  opt.max_files = 100000000;
  EximSpoolScanner::Options opt1 = opt;
  opt1.threads = 1;
  EximSpoolScanner::Options plain = opt1;
  plain.io_uring = false;
  std::unique_ptr<EximSpoolScanner> scanner;
  QueueScan first;
  std::vector<double> first_wall, first_cpu, first1_wall, first1_cpu, plain_wall, plain_cpu,
      bp_wall, bp_cpu;
  unsigned threads = 1;
  std::size_t batched = 0;
  RunResult bp;
  BpCounts bpn;
  // A first scan by a fresh scanner with `o`: wall and CPU seconds appended; the scan returned.
  auto first_scan = [&](const EximSpoolScanner::Options& o, std::vector<double>* wall,
                        std::vector<double>* cpu, std::unique_ptr<EximSpoolScanner>* keep) {
    auto s = std::make_unique<EximSpoolScanner>(o);
    ::malloc_trim(0);
    double cpu0 = SelfCpu();
    double t0 = Now();
    QueueScan scan = s->Scan();
    wall->push_back(Now() - t0);
    cpu->push_back(SelfCpu() - cpu0);
    if (keep != nullptr) *keep = std::move(s);
    return scan;
  };
  for (int round = 1; round <= repeat; ++round) {
    scanner.reset();
    first = QueueScan{};
    first = first_scan(opt, &first_wall, &first_cpu, &scanner);
    threads = scanner->last_stats().threads;
    batched = scanner->last_stats().files_batched;
    if (first_scan(opt1, &first1_wall, &first1_cpu, nullptr).messages.size() !=
        first.messages.size()) {
      ++failures;
    }
    if (first_scan(plain, &plain_wall, &plain_cpu, nullptr).messages.size() !=
        first.messages.size()) {
      ++failures;
    }
    std::cout << "scan_first_wall_seconds_round" << round << " " << first_wall.back() << "\n"
              << "scan_first_cpu_seconds_round" << round << " " << first_cpu.back() << "\n"
              << "scan_first_1t_wall_seconds_round" << round << " " << first1_wall.back() << "\n"
              << "scan_first_1t_cpu_seconds_round" << round << " " << first1_cpu.back() << "\n"
              << "scan_first_plain_wall_seconds_round" << round << " " << plain_wall.back() << "\n"
              << "scan_first_plain_cpu_seconds_round" << round << " " << plain_cpu.back() << "\n";
    if (!exim.empty()) {
      bp = Run({exim, "-C", config, "-bp"});
      if (!bp.ok) return 2;
      bp_wall.push_back(bp.wall);
      bp_cpu.push_back(bp.cpu);
      std::cout << "exim_bp_wall_seconds_round" << round << " " << bp.wall << "\n"
                << "exim_bp_cpu_seconds_round" << round << " " << bp.cpu << "\n";
    }
  }
  double t0 = Now();
  auto stats = mailrelay::AggregateQueue(first.messages, {"input"}, std::time(nullptr), 20);
  double aggregate_wall = Now() - t0;
  std::uint64_t scan_errors = 0;
  for (auto e : first.errors) scan_errors += e;
  std::cout << "repeat " << repeat << "\n"
            << "scan_first_wall_seconds " << Median(first_wall) << "\n"
            << "scan_first_cpu_seconds " << Median(first_cpu) << "\n"
            << "scan_first_threads " << threads << "\n"
            << "scan_first_files_batched " << batched << "\n"
            << "scan_first_1t_wall_seconds " << Median(first1_wall) << "\n"
            << "scan_first_1t_cpu_seconds " << Median(first1_cpu) << "\n"
            << "scan_first_plain_wall_seconds " << Median(plain_wall) << "\n"
            << "scan_first_plain_cpu_seconds " << Median(plain_cpu) << "\n"
            << "scan_first_files_read " << scanner->last_stats().files_read << "\n"
            << "aggregate_wall_seconds " << aggregate_wall << "\n"
            << "scan_messages " << first.messages.size() << "\n"
            << "scan_errors " << scan_errors << "\n";
  if (!exim.empty()) {
    bpn = CountBp(bp.out);
    std::cout << "exim_bp_wall_seconds " << Median(bp_wall) << "\n"
              << "exim_bp_cpu_seconds " << Median(bp_cpu) << "\n"
              << "exim_bp_output_bytes " << bp.out.size() << "\n"
              << "exim_bp_messages " << bpn.messages << "\n"
              << "exim_bp_frozen " << bpn.frozen << "\n"
              << "exim_bp_bounces " << bpn.bounces << "\n"
              << "exim_bp_undelivered " << bpn.undelivered << "\n"
              << "exim_bp_spool_errors " << bpn.spool_errors << "\n";
  }

  // 4. rescans of the unchanged spool
  std::vector<double> re =
      mailrelay::bench::UnchangedRescans(*scanner, rescans, first.messages.size());

  // 5. rescans that list the directories (no mtime shortcut)
  EximSpoolScanner::Options lopt = opt;
  lopt.trust_directory_mtime = false;
  EximSpoolScanner listed(lopt);
  mailrelay::bench::ListedRescans(listed, std::min(rescans, 5), first.messages.size());

  // Ratios (how many times faster the exporter is).
  if (!exim.empty()) {
    double bpw = Median(bp_wall), bpc_ = Median(bp_cpu);
    std::cout << "ratio_bp_wall_over_first_scan " << bpw / Median(first_wall) << "\n"
              << "ratio_bp_cpu_over_first_scan " << bpc_ / std::max(Median(first_cpu), 1e-6) << "\n"
              << "ratio_bp_wall_over_first_scan_1t " << bpw / Median(first1_wall) << "\n"
              << "ratio_bp_cpu_over_first_scan_1t " << bpc_ / std::max(Median(first1_cpu), 1e-6)
              << "\n"
              << "ratio_bp_wall_over_first_scan_plain " << bpw / Median(plain_wall) << "\n"
              << "ratio_bp_cpu_over_first_scan_plain " << bpc_ / std::max(Median(plain_cpu), 1e-6)
              << "\n"
              << "ratio_bpc_wall_over_first_scan " << bpc.wall / Median(first_wall) << "\n"
              << "ratio_bp_wall_over_rescan " << bpw / std::max(Median(re), 1e-9) << "\n"
              << "ratio_bpc_wall_over_rescan " << bpc.wall / std::max(Median(re), 1e-9) << "\n";
  }

  // Checks: the reader, exim and the generator agree.
  auto n = std::to_string(first.messages.size());
  Check("scan_errors", "0", std::to_string(scan_errors));
  Check("scan_truncated", "0", first.truncated ? "1" : "0");
  if (!exim.empty()) {
    Check("exim_bpc=scan_messages", n, std::to_string(std::strtoull(bpc.out.c_str(), nullptr, 10)));
    Check("exim_bp_messages=scan_messages", n, std::to_string(bpn.messages));
    Check("exim_bp_frozen=scan_frozen", std::to_string(stats.frozen), std::to_string(bpn.frozen));
    Check("exim_bp_bounces=scan_bounces", std::to_string(stats.bounces),
          std::to_string(bpn.bounces));
    Check("exim_bp_undelivered=scan_recipients", std::to_string(stats.queues["input"].recipients),
          std::to_string(bpn.undelivered));
    Check("exim_bp_spool_errors", "0", std::to_string(bpn.spool_errors));
  }
  if (!manifest.empty()) {
    Check("manifest_messages", manifest["messages"], n);
    Check("manifest_frozen", manifest["frozen"], std::to_string(stats.frozen));
    Check("manifest_bounces", manifest["bounces"], std::to_string(stats.bounces));
    Check("manifest_frozen_bounces", manifest["frozen_bounces"],
          std::to_string(stats.frozen_bounces));
    Check("manifest_recipients", manifest["recipients"],
          std::to_string(stats.queues["input"].recipients));
    if (!stats.messages_by_owner.empty()) {
      Check("manifest_top_owner", manifest["top_owner"] + ":" + manifest["top_owner_messages"],
            stats.messages_by_owner[0].first + ":" +
                std::to_string(stats.messages_by_owner[0].second));
    }
  }
  std::cout << "checks " << (failures == 0 ? "ok" : "FAILED") << "\n";
  return failures == 0 ? 0 : 1;
}
