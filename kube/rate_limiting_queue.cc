// RateLimitingQueue: forwards retries to the RateLimiter and the resulting delay to addAfter().
#include "kube/rate_limiting_queue.h"

#include "kube/max_of_rate_limiter.h"

namespace kube {

RateLimitingQueue::RateLimitingQueue(Clock& clock, RateLimiterPtr limiter, std::string name)
    : DelayingQueue(clock, std::move(name)),
      limiter_(limiter ? std::move(limiter) : defaultControllerRateLimiter(clock)) {}

void RateLimitingQueue::addRateLimited(const std::string& key) {
  // The limiter is thread-safe on its own; asking it outside the queue lock keeps get() moving.
  addAfter(key, limiter_->when(key));
}

void RateLimitingQueue::forget(const std::string& key) {
  limiter_->forget(key);
}

int RateLimitingQueue::numRequeues(const std::string& key) {
  return limiter_->numRequeues(key);
}

}  // namespace kube
