// Smooth weighted round robin.
#include "dataplane/upstream/smooth_round_robin.h"

#include <utility>

namespace meshgate::dp {

SmoothRoundRobin::SmoothRoundRobin(std::vector<uint32_t> weights)
    : weights_(std::move(weights)), scores_(weights_.size(), 0) {
  for (const auto weight : weights_)
    total_ += weight;
}

std::optional<size_t> SmoothRoundRobin::pick() {
  if (total_ == 0) return std::nullopt;
  size_t best = 0;
  for (size_t i = 0; i < weights_.size(); i++) {
    scores_[i] += weights_[i];
    if (scores_[i] > scores_[best]) best = i;
  }
  scores_[best] -= total_;
  return best;
}

}  // namespace meshgate::dp
