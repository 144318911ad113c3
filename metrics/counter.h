// Counter is one series of a counter family: a value that only goes up (reconciles, requests,
// errors). Code on the hot path keeps the reference CounterFamily::with() returns and calls inc().
#pragma once

#include <atomic>

namespace metrics {

/**
 * A monotonically increasing value. inc() is a single atomic add, without a lock; all methods are
 * thread-safe. Owned by its family, which lives as long as the Registry.
 */
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds delta. A negative (or NaN) delta is ignored: a counter that went down would read as a
  // process restart to rate().
  void inc(double delta = 1) {
    if (!(delta >= 0)) return;
    value_.fetch_add(delta, std::memory_order_relaxed);
  }

  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

}  // namespace metrics
