// Smooth weighted round robin (nginx's algorithm): each pick adds every endpoint's weight to its
// running score, takes the highest score and subtracts the total from it. Weights {5, 1, 1} give
// a a b a c a a — the heavy endpoint's turns are spread out rather than bunched. Deterministic;
// one per worker (not thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace meshgate::dp {

class SmoothRoundRobin {
 public:
  explicit SmoothRoundRobin(std::vector<uint32_t> weights);

  // The index of the next endpoint; nullopt when every weight is 0 (or there is none).
  std::optional<size_t> pick();

 private:
  std::vector<uint32_t> weights_;
  std::vector<int64_t> scores_;
  int64_t total_ = 0;
};

}  // namespace meshgate::dp
