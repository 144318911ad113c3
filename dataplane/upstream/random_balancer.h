// Weighted random (as Envoy's RANDOM): each pick draws endpoint i with probability weight_i /
// total, independently of earlier picks. No state to coordinate, so it spreads well even when
// many proxies start at once (round robin from every proxy's index 0 would not). Prefix sums are
// built once at construction; a pick is one draw and a binary search, O(log n) — O(1) when all
// weights are equal. The random engine is seeded by the caller (fixed seeds in tests). One per
// worker (not thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace meshgate::dp {

class RandomBalancer {
 public:
  // `weights[i]`: endpoint i's weight; 0 means never picked.
  RandomBalancer(const std::vector<uint32_t>& weights, uint64_t seed);

  // The index of a random endpoint; nullopt when every weight is 0 (or there is none).
  std::optional<size_t> pick();

 private:
  // cumulative_[i] = weights[0] + … + weights[i]. Empty when all weights are equal (and not 0):
  // then a uniform index is enough.
  std::vector<uint64_t> cumulative_;
  size_t endpointCount_ = 0;
  uint64_t total_ = 0;
  std::mt19937_64 engine_;
};

}  // namespace meshgate::dp
