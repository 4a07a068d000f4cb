// ScopedEnv: sets (or unsets) an environment variable for one test and restores it; for TZ it
// also calls tzset(), so the C library's local time follows.
//   ScopedEnv tz("TZ", "Europe/Berlin");
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace mailrelay {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    Set(value);
  }
  ~ScopedEnv() { Set(old_ ? old_->c_str() : nullptr); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void Set(const char* value) {
    if (value != nullptr) {
      ::setenv(name_.c_str(), value, 1);
    } else {
      ::unsetenv(name_.c_str());
    }
    if (name_ == "TZ" || name_ == "TZDIR") ::tzset();
  }

  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace mailrelay
