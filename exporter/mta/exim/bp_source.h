// The Exim queue read by running `exim -bp` (--exim.queue-source=bp). A command that fails
// counts a `command` or `timeout` error and the scan is not ok (the queue-state families are
// omitted); entries with a spool read/format error and unparsable lines count `parse` errors;
// entries whose envelope Exim could not read (no sender shown) are left out, the others are
// counted (as the spool reader does).
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/command_runner.h"
#include "queue/queue_source.h"

namespace mailrelay {

class EximBpSource : public QueueSource {
 public:
  // argv: e.g. {"/usr/sbin/exim4", "-bp"}. `clock` (for the ages -bp prints) must outlive it.
  EximBpSource(std::vector<std::string> argv, CommandOptions options, const Clock& clock);
  std::vector<std::string> QueueNames() const override { return {"input"}; }
  QueueScan Scan() override;

 private:
  std::vector<std::string> argv_;
  CommandOptions options_;
  const Clock& clock_;
};

}  // namespace mailrelay
