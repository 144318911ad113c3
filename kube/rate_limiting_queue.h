// RateLimitingQueue is the queue controllers use: a DelayingQueue whose addRateLimited() requeues
// a failed key after the delay its RateLimiter chooses (per-key backoff, overall rate). Workers
// call forget() when a key succeeds so its backoff starts over.
#pragma once

#include "kube/delaying_queue.h"
#include "kube/rate_limiter.h"

namespace kube {

/**
 * Thread-safe.
 */
class RateLimitingQueue : public DelayingQueue {
 public:
  // A null limiter means defaultControllerRateLimiter(clock).
  explicit RateLimitingQueue(Clock& clock, RateLimiterPtr limiter = nullptr, std::string name = "");

  // Adds key after limiter.when(key); each call lengthens the key's backoff until forget().
  void addRateLimited(const std::string& key);

  // Resets the limiter's memory of key. Does not remove key from the queue.
  void forget(const std::string& key);

  int numRequeues(const std::string& key);

 private:
  const RateLimiterPtr limiter_;
};
using RateLimitingQueuePtr = std::unique_ptr<RateLimitingQueue>;

}  // namespace kube
