// The Postfix queue read by running `postqueue -j`. A command that fails counts a `command` or
// `timeout` error and the scan is not ok (the queue-state families are omitted); bad lines
// count `parse` errors.
#pragma once

#include <string>
#include <vector>

#include "common/command_runner.h"
#include "queue/queue_source.h"

namespace mailrelay {

class PostqueueSource : public QueueSource {
 public:
  // argv: e.g. {"/usr/sbin/postqueue", "-j"}.
  PostqueueSource(std::vector<std::string> argv, CommandOptions options);
  std::vector<std::string> QueueNames() const override;
  QueueScan Scan() override;

 private:
  std::vector<std::string> argv_;
  CommandOptions options_;
};

}  // namespace mailrelay
