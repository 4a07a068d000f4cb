// Clock: the only way code below main learns the time, so tests can step it. Two readings:
// wall time (Unix seconds, for log timestamps, ages, series expiry) and a monotonic time (for
// intervals: state saves, refresh periods, timeouts). SystemClock reads the real clocks;
// ManualClock is set and advanced by tests (both readings move together).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace mailrelay {

class Clock {
 public:
  using Steady = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual std::int64_t UnixSeconds() const = 0;
  virtual Steady SteadyNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t UnixSeconds() const override;
  Steady SteadyNow() const override { return std::chrono::steady_clock::now(); }
  static const SystemClock& Get();  // one shared instance
};

// Thread-safe: readers on other threads see Advance()/Set() of the test thread.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t unix_seconds = 1'700'000'000) : unix_ms_(unix_seconds * 1000) {}
  std::int64_t UnixSeconds() const override { return unix_ms_.load() / 1000; }
  Steady SteadyNow() const override { return Steady(std::chrono::milliseconds(steady_ms_.load())); }
  void Advance(std::chrono::milliseconds d) {
    unix_ms_ += d.count();
    steady_ms_ += d.count();
  }
  void SetUnixSeconds(std::int64_t s) {
    unix_ms_ = s * 1000;
  }  // wall time only (steady keeps going)

 private:
  std::atomic<std::int64_t> unix_ms_;
  std::atomic<std::int64_t> steady_ms_{1'000'000};
};

}  // namespace mailrelay
