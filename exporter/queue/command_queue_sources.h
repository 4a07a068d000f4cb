// Queue sources that run a command: `exim -bp` (--exim.queue-source=bp) and `postqueue -j`
// (for the Postfix mode). A command that cannot start, exits non-zero or prints more than
// CommandOptions::max_output counts a `command` error, one killed after the timeout a
// `timeout` error; either way the scan is not ok (the queue-state families are omitted).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/command_runner.h"
#include "queue/queue_source.h"

namespace mailrelay {

using WallClock = std::function<std::int64_t()>;  // Unix seconds
std::int64_t SystemUnixNow();

class EximBpSource : public QueueSource {
 public:
  // argv: e.g. {"/usr/sbin/exim4", "-bp"}. Entries with a spool read/format error and
  // unparsable lines count `parse` errors; entries whose envelope Exim could not read (no
  // sender shown) are left out, the others are counted (as EximSpoolScanner does).
  EximBpSource(std::vector<std::string> argv, CommandOptions options, WallClock now = nullptr);
  std::vector<std::string> QueueNames() const override { return {"input"}; }
  QueueScan Scan() override;

 private:
  std::vector<std::string> argv_;
  CommandOptions options_;
  WallClock now_;
};

class PostqueueSource : public QueueSource {
 public:
  // argv: e.g. {"/usr/sbin/postqueue", "-j"}. Bad lines count `parse` errors.
  PostqueueSource(std::vector<std::string> argv, CommandOptions options);
  std::vector<std::string> QueueNames() const override;
  QueueScan Scan() override;

 private:
  std::vector<std::string> argv_;
  CommandOptions options_;
};

}  // namespace mailrelay
