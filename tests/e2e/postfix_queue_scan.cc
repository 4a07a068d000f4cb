// Test-only driver of the Postfix queue file reader (PostfixQueueScanner) and the owner actions,
// for tests/e2e/postfix_queue_e2e.sh until the exporter binary wires them (then the e2e reads
// the exporter's /metrics and report instead). Prints tab-separated lines:
//   ok <1|0>                          the scan's verdict
//   status <text>                     last_status(): "OK" or why the queue could not be read
//   message <queue> <id> <owner|-> <recipients> <size> <sender label>
//   by_owner <owner> <messages>       mailrelay_queue_messages_by_auth_user as the collector
//   recipients_by_owner <owner> <n>   builds it (AggregateQueue, top k = --top-k)
//   queue <name> <messages> <recipients> <bytes>
//   error <reason> <count>            every QueueError reason
//   command <what> <command line>     with --owner: postfix::OwnerActions for its queue ids
//   note <text>
//
//   postfix_queue_scan --queue-directory DIR [--top-k N] [--owner NAME [--config-directory DIR]]
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "mta/postfix/actions.h"
#include "mta/postfix/queue_scanner.h"
#include "queue/queue_collector.h"

int main(int argc, char** argv) {
  mailrelay::PostfixQueueScanner::Options options;
  std::string owner;
  std::string config_directory;
  bool owner_given = false;
  std::size_t top_k = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--queue-directory") {
      options.queue_directory = value;
    } else if (flag == "--owner") {
      owner = value;
      owner_given = true;
    } else if (flag == "--config-directory") {
      config_directory = value;
    } else if (flag == "--top-k") {
      top_k = std::strtoul(value.c_str(), nullptr, 10);
    } else {
      std::cerr << "postfix_queue_scan: unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::cerr << "usage: postfix_queue_scan --queue-directory DIR [--top-k N] "
                 "[--owner NAME [--config-directory DIR]]\n";
    return 2;
  }
  mailrelay::PostfixQueueScanner scanner(options);
  mailrelay::QueueScan scan = scanner.Scan();
  std::cout << "ok\t" << (scan.ok ? 1 : 0) << "\n";
  std::cout << "status\t" << scanner.last_status().ToString() << "\n";
  std::vector<std::string> owner_ids;
  for (const auto& m : scan.messages) {
    std::cout << "message\t" << m->queue << "\t" << m->id << "\t"
              << (m->owner_label.empty() ? "-" : m->owner_label) << "\t" << m->recipients << "\t"
              << m->size_bytes << "\t" << m->sender_label << "\n";
    if (owner_given && m->owner_label == owner) owner_ids.push_back(m->id);
  }
  if (scan.ok) {
    mailrelay::QueueStats stats = mailrelay::AggregateQueue(
        scan.messages, scanner.QueueNames(), static_cast<std::int64_t>(std::time(nullptr)), top_k);
    for (const auto& [label, n] : stats.messages_by_owner) {
      std::cout << "by_owner\t" << label << "\t" << n << "\n";
    }
    for (const auto& [label, n] : stats.recipients_by_owner) {
      std::cout << "recipients_by_owner\t" << label << "\t" << n << "\n";
    }
    for (const auto& [name, q] : stats.queues) {
      std::cout << "queue\t" << name << "\t" << q.messages << "\t" << q.recipients << "\t"
                << q.bytes << "\n";
    }
  }
  for (int e = 0; e < mailrelay::kQueueErrorCount; ++e) {
    std::cout << "error\t" << mailrelay::QueueErrorName(static_cast<mailrelay::QueueError>(e))
              << "\t" << scan.errors[e] << "\n";
  }
  if (owner_given) {
    mailrelay::ActionPlan actions =
        mailrelay::postfix::OwnerActions({owner, owner_ids, config_directory});
    for (const auto& c : actions.commands)
      std::cout << "command\t" << c.what << "\t" << c.command << "\n";
    std::cout << "note\t" << actions.note << "\n";
  }
  return 0;
}
