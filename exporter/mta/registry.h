// The MTA modules the binary knows, in --mta=auto order.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/flags.h"
#include "common/rootfs.h"
#include "common/status.h"
#include "mta/mta_module.h"

namespace mailrelay {

// A fresh instance of every module (each holds its own settings), in autodetect order.
std::vector<std::unique_ptr<MtaModule>> MakeMtaModules();

std::vector<std::string> MtaNames(const std::vector<std::unique_ptr<MtaModule>>& modules);

// --mta: a module by name, or for "auto" the first module whose flags name its log, else the
// first whose log exists on this host (under `root`), else the first whose programs are
// installed, else the first module; then *note (when given) says that nothing was found and
// what was looked for.
StatusOr<MtaModule*> ResolveMta(std::string_view requested,
                                const std::vector<std::unique_ptr<MtaModule>>& modules,
                                const FlagSet& flags, const RootFs& root,
                                std::string* note = nullptr);

}  // namespace mailrelay
