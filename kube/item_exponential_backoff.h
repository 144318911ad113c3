// ItemExponentialBackoff is the per-key half of the controller rate limiter: each consecutive
// failure of a key doubles its retry delay (5 ms, 10 ms, 20 ms, … capped at 1000 s by default)
// until the controller forgets the key after a success.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "kube/rate_limiter.h"

namespace kube {

/**
 * delay(n) = min(base * 2^n, max) for the n-th retry (n from 0) of a key. Thread-safe.
 */
class ItemExponentialBackoff : public RateLimiter {
 public:
  static constexpr Clock::Duration kDefaultBase = std::chrono::milliseconds(5);
  static constexpr Clock::Duration kDefaultMax = std::chrono::seconds(1000);

  // base must be > 0 and max >= base; otherwise std::invalid_argument.
  explicit ItemExponentialBackoff(Clock::Duration base = kDefaultBase,
                                  Clock::Duration max = kDefaultMax);

  // kube::RateLimiter
  Clock::Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  const Clock::Duration base_;
  const Clock::Duration max_;
  std::mutex mutex_;
  std::unordered_map<std::string, int> failures_;  // guarded by mutex_
};

}  // namespace kube
