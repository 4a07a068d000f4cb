// What `respond` runs against Postfix (argv, no shell), from documented interfaces only:
//  - postsuper -h ID... puts messages on hold (no delivery until released, nothing is lost),
//    postsuper -H ID... releases them (postsuper(1): -h/-H may be given several times; it
//    reports on stderr and exits 0 also for ids it did not find);
//  - new SMTP AUTH mail: smtpd's `check_sasl_access TYPE:LIST` (the hold list, `ACCOUNT HOLD
//    text` lines, is an access(5) table as it is) after `postmap TYPE:LIST`; smtpd processes
//    reopen an indexed table that changed;
//  - new local (sendmail) mail: no smtpd restriction applies to it. The only key Postfix has is
//    the submitter's uid in the Received header sendmail writes ("Received: by HOST (Postfix,
//    from userid N)"), so the module writes LIST.pickup-uids.regexp, a header_checks table of
//    the held local users' uids, for a cleanup service that only pickup uses (the shipped
//    master.cf snippet); regexp tables are read at process start, hence `postfix reload`
//    after it changed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mta/actions.h"

namespace mailrelay::postfix {

// Most queue ids per postsuper command.
inline constexpr std::size_t kIdsPerCommand = 100;

// `postsuper [-c DIR] -h ID -h ID ...` (hold) or `-H` (release), batched; ids that are not
// Postfix queue ids (IsPostfixQueueId) are left out.
std::vector<Argv> HoldCommands(const std::string& postsuper, const std::string& config_directory,
                               const std::vector<std::string>& ids, bool hold);

// The header_checks table of held local users: one HOLD line per account that `uid_of` knows
// (accounts with '@' are SASL logins and skipped), in the order given, after a comment naming
// `list_path`.
std::string PickupHoldRegexp(
    const std::string& list_path, const std::vector<std::string>& accounts,
    const std::function<std::optional<std::uint32_t>(const std::string&)>& uid_of);

// Where PickupHoldRegexp's table goes for the hold list at `list_path`.
std::string PickupHoldRegexpPath(const std::string& list_path);

struct FollowerTools {
  std::string postmap;           // path
  std::string postfix;           // path, for `postfix reload`
  std::string config_directory;  // -c DIR, "" for the default
  std::string map_type = "hash";
};
// postmap TYPE:LIST after the list changed; the pickup table with `postfix reload` after it
// changed.
HoldListFollowers Followers(
    const FollowerTools& tools, const std::string& list_path,
    const std::vector<std::string>& accounts,
    const std::function<std::optional<std::uint32_t>(const std::string&)>& uid_of);

std::vector<std::string> PostfixServiceAccounts();

}  // namespace mailrelay::postfix
