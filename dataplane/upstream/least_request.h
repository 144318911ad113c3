// Least request by the power of two choices (as Envoy's LEAST_REQUEST): draw two different
// endpoints at random and send to the one with fewer requests in flight (the first drawn on a
// tie). Close to the global least-loaded choice at O(1), without herding onto one endpoint. The
// caller owns the in-flight counts; the random engine is injected (seeded in tests). One per
// worker (not thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace meshgate::dp {

class LeastRequest {
 public:
  explicit LeastRequest(uint64_t seed) : engine_(seed) {}

  // `active[i]`: requests in flight to endpoint i. nullopt when there is no endpoint.
  std::optional<size_t> pick(const std::vector<uint32_t>& active);

 private:
  std::mt19937_64 engine_;
};

}  // namespace meshgate::dp
