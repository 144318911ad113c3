// ItemExponentialBackoff: failure counts per key and the capped doubling.
#include "kube/item_exponential_backoff.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace kube {

ItemExponentialBackoff::ItemExponentialBackoff(Clock::Duration base, Clock::Duration max)
    : base_(base), max_(max) {
  if (base <= Clock::Duration::zero() || max < base) {
    throw std::invalid_argument("ItemExponentialBackoff: need 0 < base <= max");
  }
}

Clock::Duration ItemExponentialBackoff::when(const std::string& key) {
  int exponent;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    int& failures = failures_[key];
    exponent = failures;
    // Saturate rather than overflow for keys that fail forever; the delay is capped long before.
    if (failures < std::numeric_limits<int>::max()) ++failures;
  }
  // Computed in floating point so that 2^exponent cannot overflow the tick count.
  const double ticks = static_cast<double>(base_.count()) * std::exp2(exponent);
  if (ticks >= static_cast<double>(max_.count())) return max_;
  return Clock::Duration(static_cast<Clock::Duration::rep>(ticks));
}

void ItemExponentialBackoff::forget(const std::string& key) {
  std::lock_guard<std::mutex> guard(mutex_);
  failures_.erase(key);
}

int ItemExponentialBackoff::numRequeues(const std::string& key) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

}  // namespace kube
