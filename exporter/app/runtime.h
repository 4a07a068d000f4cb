// What every subcommand builds from its command line in the same way: the relay policy and
// classifier, the MTA context, and the chosen module's logs and queue reader.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "app/command_line.h"
#include "classify/relay_classifier.h"
#include "common/clock.h"
#include "common/status.h"
#include "mta/mta_module.h"

namespace mailrelay {

// --relay.*: local networks (plus the interfaces' addresses when asked), relayhosts files,
// ignored users. A bad CIDR is an error naming it.
StatusOr<RelayPolicy> BuildRelayPolicy(const RelayOptions& options);
std::unordered_set<std::string> IgnoreUsers(const RelayOptions& options);

MtaContext MakeMtaContext(const CommonOptions& options, RunMode mode, const Clock& clock);

struct Runtime {
  MtaModule* mta = nullptr;
  MtaContext context;
  std::unique_ptr<RelayClassifier> classifier;
  std::vector<LogSpec> logs;
};

StatusOr<Runtime> BuildRuntime(const CommandLine& command_line, RunMode mode, const Clock& clock);

}  // namespace mailrelay
