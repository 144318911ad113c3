// MaxOfRateLimiter combines rate limiters by taking the longest delay any of them asks for. Its
// main use is defaultControllerRateLimiter(), the limiter every controller's work queue gets
// unless it brings its own (the equivalent of client-go's DefaultControllerRateLimiter).
#pragma once

#include <vector>

#include "kube/rate_limiter.h"

namespace kube {

/**
 * when() consults every limiter (each records the retry) and returns the maximum; forget()
 * forwards to all; numRequeues() is the maximum. Thread-safe if the parts are.
 */
class MaxOfRateLimiter : public RateLimiter {
 public:
  // limiters must be non-empty and non-null; otherwise std::invalid_argument.
  explicit MaxOfRateLimiter(std::vector<RateLimiterPtr> limiters);

  // kube::RateLimiter
  Clock::Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  const std::vector<RateLimiterPtr> limiters_;
};

/**
 * max(per-key exponential backoff 5 ms .. 1000 s, overall token bucket 10 qps / burst 100): a
 * single key backs off exponentially, and many failing keys together are held to 10 retries/s.
 * clock must outlive the limiter.
 */
RateLimiterPtr defaultControllerRateLimiter(Clock& clock);

}  // namespace kube
