#include "mta/postfix/respond_actions.h"

#include "mta/postfix/log_parser.h"  // IsPostfixQueueId

namespace mailrelay::postfix {

namespace {

Argv WithConfig(const std::string& program, const std::string& config_directory) {
  Argv argv = {program};
  if (!config_directory.empty()) {
    argv.push_back("-c");
    argv.push_back(config_directory);
  }
  return argv;
}

}  // namespace

std::vector<Argv> HoldCommands(const std::string& postsuper, const std::string& config_directory,
                               const std::vector<std::string>& ids, bool hold) {
  const Argv head = WithConfig(postsuper, config_directory);
  std::vector<Argv> out;
  Argv current;
  std::size_t in_current = 0;
  for (const std::string& id : ids) {
    if (!IsPostfixQueueId(id)) continue;
    if (current.empty()) current = head;
    current.push_back(hold ? "-h" : "-H");
    current.push_back(id);
    if (++in_current == kIdsPerCommand) {
      out.push_back(std::move(current));
      current.clear();
      in_current = 0;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::string PickupHoldRegexp(
    const std::string& list_path, const std::vector<std::string>& accounts,
    const std::function<std::optional<std::uint32_t>(const std::string&)>& uid_of) {
  std::string out =
      "# Written by mailrelay_exporter respond from " + list_path +
      " (do not edit): the local\n"
      "# users whose new mail is held, for header_checks of the cleanup service of pickup.\n";
  for (const std::string& account : accounts) {
    if (account.find('@') != std::string::npos) continue;
    std::optional<std::uint32_t> uid = uid_of(account);
    if (!uid) continue;
    out += "/^Received: by [^ ]+ \\([^()]*, from userid " + std::to_string(*uid) +
           "\\)/ HOLD held by mailrelay_exporter respond: local user " + account + "\n";
  }
  return out;
}

std::string PickupHoldRegexpPath(const std::string& list_path) {
  return list_path + ".pickup-uids.regexp";
}

HoldListFollowers Followers(
    const FollowerTools& tools, const std::string& list_path,
    const std::vector<std::string>& accounts,
    const std::function<std::optional<std::uint32_t>(const std::string&)>& uid_of) {
  HoldListFollowers out;
  Argv postmap = WithConfig(tools.postmap, tools.config_directory);
  postmap.push_back(tools.map_type + ":" + list_path);
  out.after_list_change.push_back(std::move(postmap));
  HoldMap pickup;
  pickup.path = PickupHoldRegexpPath(list_path);
  pickup.content = PickupHoldRegexp(list_path, accounts, uid_of);
  Argv reload = WithConfig(tools.postfix, tools.config_directory);
  reload.push_back("reload");
  pickup.after_change.push_back(std::move(reload));
  out.maps.push_back(std::move(pickup));
  return out;
}

std::vector<std::string> PostfixServiceAccounts() { return {"postfix"}; }

}  // namespace mailrelay::postfix
