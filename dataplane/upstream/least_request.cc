// Power of two choices.
#include "dataplane/upstream/least_request.h"

namespace meshgate::dp {

std::optional<size_t> LeastRequest::pick(const std::vector<uint32_t>& active) {
  if (active.empty()) return std::nullopt;
  if (active.size() == 1) return 0;
  std::uniform_int_distribution<size_t> first(0, active.size() - 1);
  std::uniform_int_distribution<size_t> other(0, active.size() - 2);
  const size_t a = first(engine_);
  size_t b = other(engine_);
  if (b >= a) b++;  // a different endpoint, uniformly among the rest
  return active[b] < active[a] ? b : a;
}

}  // namespace meshgate::dp
