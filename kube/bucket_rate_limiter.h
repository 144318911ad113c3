// BucketRateLimiter is the overall half of the controller rate limiter: one TokenBucket shared by
// all keys, so a storm of failing keys cannot retry faster than qps (with a burst) in total.
#pragma once

#include "kube/rate_limiter.h"
#include "kube/token_bucket.h"

namespace kube {

/**
 * A RateLimiter whose delay is the wait for the next token of a shared bucket; it keeps nothing
 * per key, so forget() is a no-op and numRequeues() is 0. Thread-safe.
 */
class BucketRateLimiter : public RateLimiter {
 public:
  // Arguments as for TokenBucket.
  BucketRateLimiter(Clock& clock, double qps, int burst) : bucket_(clock, qps, burst) {}

  // kube::RateLimiter
  Clock::Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  TokenBucket bucket_;
};

}  // namespace kube
