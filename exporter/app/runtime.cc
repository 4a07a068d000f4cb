#include "app/runtime.h"

#include "common/net.h"
#include "common/text.h"

namespace mailrelay {

StatusOr<RelayPolicy> BuildRelayPolicy(const RelayOptions& options) {
  RelayPolicy policy;
  for (const auto& cidr : SplitList(options.local_networks, ',')) {
    if (!policy.local_networks.Add(cidr)) {
      return InvalidArgument("bad CIDR '" + cidr + "' in --relay.local-networks");
    }
  }
  if (options.include_interface_addresses) {
    for (const auto& ip : LocalInterfaceAddresses()) policy.local_networks.AddAddress(ip);
  }
  policy.relayhosts_files = SplitList(options.relayhosts, ',');
  policy.ignore_users = IgnoreUsers(options);
  return policy;
}

std::unordered_set<std::string> IgnoreUsers(const RelayOptions& options) {
  std::unordered_set<std::string> users;
  for (const auto& u : SplitList(options.ignore_users, ',')) users.insert(u);
  return users;
}

MtaContext MakeMtaContext(const CommonOptions& options, RunMode mode, const Clock& clock) {
  MtaContext ctx;
  ctx.mode = mode;
  ctx.start_at_end = mode == RunMode::kLive && !options.tail.from_beginning;
  if (mode == RunMode::kLive) ctx.state_file = options.tail.state_file;
  ctx.queue = options.queue;
  ctx.clock = &clock;
  ctx.rootfs = RootFs(options.rootfs);
  return ctx;
}

StatusOr<Runtime> BuildRuntime(const CommandLine& command_line, RunMode mode, const Clock& clock) {
  Runtime rt;
  rt.mta = command_line.mta();
  rt.context = MakeMtaContext(command_line.options, mode, clock);
  StatusOr<RelayPolicy> policy = BuildRelayPolicy(command_line.options.relay);
  if (!policy.ok()) return policy.status();
  rt.classifier = std::make_unique<RelayClassifier>(std::move(policy).value());
  StatusOr<std::vector<LogSpec>> logs = rt.mta->Logs(rt.context);
  if (!logs.ok()) return logs.status();
  rt.logs = std::move(logs).value();
  return rt;
}

}  // namespace mailrelay
