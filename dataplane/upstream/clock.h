// The time source of the upstream policies that expire things (outlier ejections). Injected so
// tests drive time by hand instead of sleeping: SteadyClock in the proxy, ManualClock in tests.
// Both implementations are thread-safe; one clock is shared by all workers.
#pragma once

#include <atomic>
#include <chrono>

namespace meshgate::dp {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The real monotonic clock.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// Time that moves only when told to. Atomic so a test may advance it while worker threads read.
class ManualClock final : public Clock {
 public:
  // Starts well after the epoch, so "time 0" never doubles as a sentinel by accident.
  explicit ManualClock(TimePoint start = TimePoint{} + std::chrono::hours(1))
      : ticks_(start.time_since_epoch().count()) {}

  TimePoint now() const override {
    return TimePoint{TimePoint::duration{ticks_.load(std::memory_order_relaxed)}};
  }
  void advance(Duration by) { ticks_.fetch_add(by.count(), std::memory_order_relaxed); }

 private:
  std::atomic<TimePoint::rep> ticks_;
};

}  // namespace meshgate::dp
