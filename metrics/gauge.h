// Gauge is one series of a gauge family: a value that goes up and down (leader or not, objects
// owned, in-flight requests). For values other code already keeps, a collector is the better fit.
#pragma once

#include <atomic>

namespace metrics {

/**
 * A value that can be set, raised and lowered. Every method is one atomic operation, without a
 * lock; all methods are thread-safe. Owned by its family, which lives as long as the Registry.
 */
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void dec(double delta = 1) { value_.fetch_sub(delta, std::memory_order_relaxed); }

  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

}  // namespace metrics
