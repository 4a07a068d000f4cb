// What `respond` runs against Exim (argv, no shell), built from documented options only:
//  - exim -Mf ID... freezes messages (delivery stops, the spool keeps them), exim -Mt ID... thaws
//    them (exim(8): both take several ids; each prints one line per id on stdout and the exit
//    status is 1 when any id failed, e.g. already frozen or delivered meanwhile);
//  - -C FILE when Exim runs with another configuration than its compiled-in one (as root, Exim
//    keeps its privilege with -C);
//  - on cPanel, `whmapi1 hold_outgoing_email user=NAME` / `release_outgoing_email user=NAME`,
//    cPanel's own hold of a cPanel account's outgoing mail (its exim.conf then queues that
//    account's new mail itself).
// New mail of a held account is frozen by the shipped ACL snippet (packaging/respond/), which
// looks the account up in the hold list with lsearch: nothing to derive from the list.
#pragma once

#include <string>
#include <vector>

#include "mta/actions.h"

namespace mailrelay::exim {

// Most message ids per exim -Mf / -Mt command (about 2.4 KiB of arguments).
inline constexpr std::size_t kIdsPerCommand = 100;

// `binary [-C config] -Mf|-Mt ID...` in batches of kIdsPerCommand; ids that are not Exim
// message ids (IsEximMessageId) are left out. `config` "" leaves -C out.
std::vector<Argv> FreezeCommands(const std::string& binary, const std::string& config,
                                 const std::vector<std::string>& ids, bool freeze);

// cPanel's hold of a cPanel account: `whmapi1 hold_outgoing_email user=NAME` (hold) or
// `whmapi1 release_outgoing_email user=NAME`.
Argv CpanelHoldCommand(const std::string& whmapi1, const std::string& account, bool hold);

// The local users Exim runs as on the supported platforms (its bounces are theirs).
std::vector<std::string> EximServiceAccounts();

}  // namespace mailrelay::exim
