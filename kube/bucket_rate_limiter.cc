// BucketRateLimiter: RateLimiter over a TokenBucket reservation.
#include "kube/bucket_rate_limiter.h"

namespace kube {

Clock::Duration BucketRateLimiter::when(const std::string&) {
  return bucket_.reserve();
}

void BucketRateLimiter::forget(const std::string&) {}

int BucketRateLimiter::numRequeues(const std::string&) {
  return 0;
}

}  // namespace kube
