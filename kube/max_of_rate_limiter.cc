// MaxOfRateLimiter and the default controller limiter built from it.
#include "kube/max_of_rate_limiter.h"

#include <algorithm>
#include <stdexcept>

#include "kube/bucket_rate_limiter.h"
#include "kube/item_exponential_backoff.h"

namespace kube {

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<RateLimiterPtr> limiters)
    : limiters_(std::move(limiters)) {
  if (limiters_.empty()) throw std::invalid_argument("MaxOfRateLimiter: no limiters");
  for (const auto& limiter : limiters_) {
    if (!limiter) throw std::invalid_argument("MaxOfRateLimiter: null limiter");
  }
}

Clock::Duration MaxOfRateLimiter::when(const std::string& key) {
  // Every limiter must see the retry (no short-circuit), or its state would fall behind.
  Clock::Duration longest = Clock::Duration::zero();
  for (const auto& limiter : limiters_)
    longest = std::max(longest, limiter->when(key));
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& key) {
  for (const auto& limiter : limiters_)
    limiter->forget(key);
}

int MaxOfRateLimiter::numRequeues(const std::string& key) {
  int most = 0;
  for (const auto& limiter : limiters_)
    most = std::max(most, limiter->numRequeues(key));
  return most;
}

RateLimiterPtr defaultControllerRateLimiter(Clock& clock) {
  std::vector<RateLimiterPtr> limiters;
  limiters.push_back(std::make_unique<ItemExponentialBackoff>(std::chrono::milliseconds(5),
                                                              std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(clock, 10, 100));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace kube
