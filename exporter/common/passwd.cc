#include "common/passwd.h"

#include <fstream>
#include <iterator>
#include <vector>

#include "common/text.h"

#if !defined(MAILRELAY_STATIC_BUILD)
#include <pwd.h>
#include <unistd.h>
#endif

namespace mailrelay {

namespace {

// Calls f(name, uid) for every `name:password:uid:...` line of passwd(5) text until f returns
// true; comments, NIS `+`/`-` entries and garbage are skipped.
template <typename F>
void ForEachPasswdEntry(std::string_view passwd, F f) {
  while (!passwd.empty()) {
    std::size_t eol = passwd.find('\n');
    std::string_view line = passwd.substr(0, eol);
    passwd = eol == std::string_view::npos ? std::string_view() : passwd.substr(eol + 1);
    std::size_t c1 = line.find(':');
    if (c1 == std::string_view::npos || c1 == 0 || line[0] == '#' || line[0] == '+' ||
        line[0] == '-') {
      continue;
    }
    std::size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::size_t c3 = line.find(':', c2 + 1);
    std::string_view uid_field =
        line.substr(c2 + 1, c3 == std::string_view::npos ? c3 : c3 - c2 - 1);
    std::uint64_t value = 0;
    if (!ParseUint64(uid_field, &value) || value > 0xffffffffu) continue;
    if (f(line.substr(0, c1), static_cast<std::uint32_t>(value))) return;
  }
}

std::string ReadEtcPasswd() {
  std::ifstream in("/etc/passwd", std::ios::binary);
  if (!in) return {};
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

std::string NameForUidInPasswd(std::string_view passwd, std::uint32_t uid) {
  std::string name;
  ForEachPasswdEntry(passwd, [&](std::string_view n, std::uint32_t u) {
    if (u != uid) return false;
    name = std::string(n);
    return true;
  });
  return name;
}

std::optional<std::uint32_t> UidForNameInPasswd(std::string_view passwd, std::string_view name) {
  std::optional<std::uint32_t> uid;
  ForEachPasswdEntry(passwd, [&](std::string_view n, std::uint32_t u) {
    if (n != name) return false;
    uid = u;
    return true;
  });
  return uid;
}

std::string LookupUidName(std::uint32_t uid) {
  std::string name = NameForUidInPasswd(ReadEtcPasswd(), uid);
  if (!name.empty()) return name;
#if !defined(MAILRELAY_STATIC_BUILD)
  long size_max = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size_max > 0 ? static_cast<std::size_t>(size_max) : 16384);
  struct passwd pw {};
  struct passwd* result = nullptr;
  if (::getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &result) == 0 &&
      result != nullptr && result->pw_name != nullptr) {
    return result->pw_name;
  }
#endif
  return {};
}

std::optional<std::uint32_t> LookupUserUid(const std::string& name) {
  if (std::optional<std::uint32_t> uid = UidForNameInPasswd(ReadEtcPasswd(), name)) return uid;
#if !defined(MAILRELAY_STATIC_BUILD)
  long size_max = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size_max > 0 ? static_cast<std::size_t>(size_max) : 16384);
  struct passwd pw {};
  struct passwd* result = nullptr;
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result) == 0 && result != nullptr) {
    return static_cast<std::uint32_t>(result->pw_uid);
  }
#endif
  return std::nullopt;
}

}  // namespace mailrelay
