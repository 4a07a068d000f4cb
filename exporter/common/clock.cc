#include "common/clock.h"

#include <ctime>

namespace mailrelay {

std::int64_t SystemClock::UnixSeconds() const {
  return static_cast<std::int64_t>(std::time(nullptr));
}

const SystemClock& SystemClock::Get() {
  static const SystemClock clock;
  return clock;
}

}  // namespace mailrelay
