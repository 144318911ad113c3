// TokenBucket is a (qps, burst) rate limiter on an injected Clock. The work queue's overall
// limiter (through BucketRateLimiter) and the REST client's client-side QPS limit use it: the
// REST client calls reserve() and waits out the returned delay before sending.
#pragma once

#include <memory>

#include "kube/clock.h"

namespace kube {

/**
 * A bucket holding up to `burst` tokens, refilled at `qps` tokens per second, starting full.
 * Thread-safe.
 *
 * State is kept as the "theoretical arrival time" of the next token (the GCRA form of a token
 * bucket) in integer clock ticks, so refill has no floating-point drift and FakeClock tests see
 * exact boundaries.
 */
class TokenBucket {
 public:
  // qps must be finite and > 0, burst >= 1; otherwise std::invalid_argument. clock must outlive
  // the bucket.
  TokenBucket(Clock& clock, double qps, int burst);

  // Takes a token if one is available now; never waits and never goes into debt.
  bool tryAccept();

  /**
   * Takes a token unconditionally, possibly one that will only exist in the future, and returns
   * how long the caller must wait before acting (zero if a token was available). Later callers
   * queue behind this reservation.
   */
  Clock::Duration reserve();

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  Clock& clock_;
  const double qps_;
  const int burst_;
  const Clock::Duration interval_;   // time to refill one token
  const Clock::Duration tolerance_;  // (burst - 1) * interval_: how far ahead a token may be used
  std::mutex mutex_;
  Clock::TimePoint nextTokenAt_;  // guarded by mutex_
};
using TokenBucketPtr = std::unique_ptr<TokenBucket>;

}  // namespace kube
