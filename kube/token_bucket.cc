// TokenBucket as GCRA: a token is available at time t iff t >= nextTokenAt_ - tolerance_;
// taking one moves nextTokenAt_ to max(nextTokenAt_, t) + interval_.
#include "kube/token_bucket.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kube {

namespace {

// Rates slower than one token per ~3 years are treated as a configuration mistake; this also
// keeps burst * interval far from overflowing the clock's 64-bit nanosecond count.
constexpr double kMaxIntervalNanos = 1e17;

Clock::Duration intervalFor(double qps, int burst) {
  if (!(qps > 0) || !std::isfinite(qps)) {
    throw std::invalid_argument("TokenBucket: qps must be finite and > 0");
  }
  if (burst < 1) throw std::invalid_argument("TokenBucket: burst must be >= 1");
  const double nanos = 1e9 / qps;
  if (nanos * burst > kMaxIntervalNanos) {
    throw std::invalid_argument("TokenBucket: qps too small for the burst");
  }
  return std::chrono::duration_cast<Clock::Duration>(std::chrono::nanoseconds(std::llround(nanos)));
}

}  // namespace

TokenBucket::TokenBucket(Clock& clock, double qps, int burst)
    : clock_(clock),
      qps_(qps),
      burst_(burst),
      interval_(intervalFor(qps, burst)),
      tolerance_(interval_ * (burst - 1)),
      nextTokenAt_(clock.now()) {}

bool TokenBucket::tryAccept() {
  std::lock_guard<std::mutex> guard(mutex_);
  const Clock::TimePoint now = clock_.now();
  if (now < nextTokenAt_ - tolerance_) return false;
  nextTokenAt_ = std::max(nextTokenAt_, now) + interval_;
  return true;
}

Clock::Duration TokenBucket::reserve() {
  std::lock_guard<std::mutex> guard(mutex_);
  const Clock::TimePoint now = clock_.now();
  const Clock::TimePoint availableAt = std::max(now, nextTokenAt_ - tolerance_);
  nextTokenAt_ = std::max(nextTokenAt_, now) + interval_;
  return availableAt - now;
}

}  // namespace kube
