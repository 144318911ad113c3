// Weighted random by prefix sums.
#include "dataplane/upstream/random_balancer.h"

#include <algorithm>

namespace meshgate::dp {

RandomBalancer::RandomBalancer(const std::vector<uint32_t>& weights, uint64_t seed)
    : endpointCount_(weights.size()), engine_(seed) {
  bool allEqual = true;
  for (const auto weight : weights) {
    total_ += weight;
    allEqual = allEqual && weight == weights.front();
  }
  if (allEqual || total_ == 0) return;
  cumulative_.reserve(weights.size());
  uint64_t sum = 0;
  for (const auto weight : weights) {
    sum += weight;
    cumulative_.push_back(sum);
  }
}

std::optional<size_t> RandomBalancer::pick() {
  if (total_ == 0) return std::nullopt;
  if (cumulative_.empty()) {
    return std::uniform_int_distribution<size_t>(0, endpointCount_ - 1)(engine_);
  }
  const uint64_t point = std::uniform_int_distribution<uint64_t>(0, total_ - 1)(engine_);
  // The first endpoint whose range [cumulative - weight, cumulative) holds the point; an endpoint
  // of weight 0 has an empty range, and upper_bound steps over it.
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), point);
  return static_cast<size_t>(it - cumulative_.begin());
}

}  // namespace meshgate::dp
