// RateLimiter decides how long a work-queue key waits before it is retried. RateLimitingQueue
// calls it from addRateLimited(); controllers reach it through the queue's forget() and
// numRequeues(). Implementations: ItemExponentialBackoff, BucketRateLimiter, MaxOfRateLimiter.
#pragma once

#include <memory>
#include <string>

#include "kube/clock.h"

namespace kube {

/**
 * Per-key retry policy. Implementations are thread-safe: several workers share one limiter.
 */
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;

  // Records a retry of key and returns how long to wait before it may be processed again.
  virtual Clock::Duration when(const std::string& key) = 0;

  // Drops everything remembered about key (it succeeded), so its next failure starts over.
  virtual void forget(const std::string& key) = 0;

  // How many times when() was called for key since it was last forgotten.
  virtual int numRequeues(const std::string& key) = 0;
};
using RateLimiterPtr = std::unique_ptr<RateLimiter>;

}  // namespace kube
