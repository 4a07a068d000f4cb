// uid -> user name without depending on NSS where that is not available.
//
// The static release build cannot use glibc's NSS (getpwuid_r would dlopen the host's
// libnss_*.so of another glibc), so user names come from /etc/passwd itself there. Local users
// (the ones whose scripts submit mail) are in /etc/passwd on every platform the exporter
// supports; the dynamic build also asks NSS (LDAP, sssd...) for uids /etc/passwd lacks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailrelay {

// The name of the first entry for `uid` in passwd(5) text, or "" when there is none. Lines that
// are not `name:password:uid:...` (comments, NIS `+` entries, garbage) are skipped.
std::string NameForUidInPasswd(std::string_view passwd, std::uint32_t uid);

// The uid of the first entry named `name` in passwd(5) text.
std::optional<std::uint32_t> UidForNameInPasswd(std::string_view passwd, std::string_view name);

// /etc/passwd, then (dynamic builds only) getpwuid_r. "" when the uid is unknown. Not cached.
std::string LookupUidName(std::uint32_t uid);
// The reverse: /etc/passwd, then (dynamic builds only) getpwnam_r. Not cached.
std::optional<std::uint32_t> LookupUserUid(const std::string& name);

}  // namespace mailrelay
