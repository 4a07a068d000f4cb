#include "mta/registry.h"

#include "mta/exim/exim_module.h"
#include "mta/postfix/postfix_module.h"

namespace mailrelay {

std::vector<std::unique_ptr<MtaModule>> MakeMtaModules() {
  std::vector<std::unique_ptr<MtaModule>> modules;
  modules.push_back(MakeEximModule());
  modules.push_back(MakePostfixModule());
  return modules;
}

std::vector<std::string> MtaNames(const std::vector<std::unique_ptr<MtaModule>>& modules) {
  std::vector<std::string> names;
  for (const auto& m : modules) names.emplace_back(m->name());
  return names;
}

StatusOr<MtaModule*> ResolveMta(std::string_view requested,
                                const std::vector<std::unique_ptr<MtaModule>>& modules,
                                const FlagSet& flags) {
  if (modules.empty()) return InternalError("no MTA module");
  if (requested != "auto") {
    for (const auto& m : modules) {
      if (m->name() == requested) return m.get();
    }
    return InvalidArgument("unknown MTA '" + std::string(requested) + "'");
  }
  for (Presence wanted : {Presence::kRequested, Presence::kInstalled}) {
    for (const auto& m : modules) {
      if (m->Detect(flags) == wanted) return m.get();
    }
  }
  return modules.front().get();
}

}  // namespace mailrelay
