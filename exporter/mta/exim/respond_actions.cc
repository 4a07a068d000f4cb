#include "mta/exim/respond_actions.h"

#include "mta/exim/log_parser.h"  // IsEximMessageId

namespace mailrelay::exim {

std::vector<Argv> FreezeCommands(const std::string& binary, const std::string& config,
                                 const std::vector<std::string>& ids, bool freeze) {
  Argv head = {binary};
  if (!config.empty()) {
    head.push_back("-C");
    head.push_back(config);
  }
  head.push_back(freeze ? "-Mf" : "-Mt");
  std::vector<Argv> out;
  Argv current;
  for (const std::string& id : ids) {
    if (!IsEximMessageId(id)) continue;
    if (current.empty()) current = head;
    current.push_back(id);
    if (current.size() - head.size() == kIdsPerCommand) {
      out.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

Argv CpanelHoldCommand(const std::string& whmapi1, const std::string& account, bool hold) {
  return {whmapi1, hold ? "hold_outgoing_email" : "release_outgoing_email", "user=" + account};
}

std::vector<std::string> EximServiceAccounts() {
  // cPanel and DirectAdmin run Exim as mailnull / mail, Debian as Debian-exim, Fedora as exim.
  return {"mailnull", "Debian-exim", "exim", "mail"};
}

}  // namespace mailrelay::exim
