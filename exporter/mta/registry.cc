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
                                const FlagSet& flags, const RootFs& root, std::string* note) {
  if (modules.empty()) return InternalError("no MTA module");
  if (requested != "auto") {
    for (const auto& m : modules) {
      if (m->name() == requested) return m.get();
    }
    return InvalidArgument("unknown MTA '" + std::string(requested) + "'");
  }
  std::vector<Presence> found;
  for (const auto& m : modules) found.push_back(m->Detect(flags, root));
  for (Presence wanted : {Presence::kRequested, Presence::kLogging, Presence::kInstalled}) {
    for (std::size_t i = 0; i < modules.size(); ++i) {
      if (found[i] == wanted) return modules[i].get();
    }
  }
  if (note != nullptr) {
    std::string looked;
    for (const auto& m : modules) {
      looked += (looked.empty() ? "" : "; ") + std::string(m->name()) + ": " + m->DetectTargets();
    }
    *note = "--mta=auto found no mail server" + root.Describe() + " (looked for " + looked +
            "); using " + std::string(modules.front()->name()) + " (set --mta and its log's flag)";
  }
  return modules.front().get();
}

}  // namespace mailrelay
