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

std::string NameForUidInPasswd(std::string_view passwd, std::uint32_t uid) {
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
    if (ParseUint64(uid_field, &value) && value == uid) return std::string(line.substr(0, c1));
  }
  return {};
}

std::string LookupUidName(std::uint32_t uid) {
  std::ifstream in("/etc/passwd", std::ios::binary);
  if (in) {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string name = NameForUidInPasswd(text, uid);
    if (!name.empty()) return name;
  }
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

}  // namespace mailrelay
