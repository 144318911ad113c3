// Backend and endpoint picks of one worker.
#include "dataplane/proxy/worker_view.h"

namespace meshgate::dp {

WorkerView::WorkerView(SnapshotPtr snapshot, uint64_t seed)
    : snapshot_(std::move(snapshot)), random_(seed) {
  const auto& rules = snapshot_->rules();
  const auto& tcpTargets = snapshot_->tcpTargets();
  // TCP targets' rules come after the routes (TcpTarget): one route of one rule each.
  backendPickers_.resize(rules.size() + tcpTargets.size());
  balancers_.resize(rules.size() + tcpTargets.size());
  for (const auto& route : rules)
    for (const CompiledRule& rule : route)
      addBalancers(rule);
  for (const TcpTarget& target : tcpTargets)
    addBalancers(target.rule);
  for (const auto& cluster : snapshot_->clusters())
    active_.emplace_back(cluster.endpoints.size(), 0);
}

void WorkerView::addBalancers(const CompiledRule& rule) {
  auto& pickers = backendPickers_[rule.routeIndex];
  auto& balancers = balancers_[rule.routeIndex];
  if (pickers.size() <= rule.ruleIndex) {
    pickers.resize(rule.ruleIndex + 1);
    balancers.resize(rule.ruleIndex + 1);
  }
  std::vector<uint32_t> weights;
  for (const auto& backend : rule.backends)
    weights.push_back(backend.weight);
  if (weights.size() > 1) pickers[rule.ruleIndex].emplace(std::move(weights));
  for (const auto& backend : rule.backends) {
    const Cluster& cluster = snapshot_->clusters()[backend.cluster];
    Balancer balancer;
    balancer.policy = cluster.policy;
    std::vector<uint32_t> memberWeights;
    std::vector<RingEndpoint> ringEndpoints;
    for (size_t member : backend.members) {
      memberWeights.push_back(cluster.endpoints[member].weight);
      ringEndpoints.push_back({cluster.endpoints[member].key, cluster.endpoints[member].weight});
    }
    switch (cluster.policy) {
      case LbPolicy::RoundRobin:
        balancer.roundRobin.emplace(memberWeights);
        break;
      case LbPolicy::LeastRequest:
        balancer.leastRequest.emplace(random_());
        break;
      case LbPolicy::Random:
        balancer.randomPick.emplace(memberWeights, random_());
        break;
      case LbPolicy::RingHash:
        balancer.ring.emplace(ringEndpoints);
        balancer.randomPick.emplace(memberWeights, random_());
        break;
    }
    balancers[rule.ruleIndex].push_back(std::move(balancer));
  }
}

std::optional<size_t> WorkerView::pickBackend(const CompiledRule& rule) {
  if (rule.backends.empty()) return std::nullopt;
  auto& picker = backendPickers_[rule.routeIndex][rule.ruleIndex];
  if (!picker) return rule.backends[0].weight > 0 ? std::optional<size_t>(0) : std::nullopt;
  return picker->pick();
}

std::optional<size_t> WorkerView::pickMember(Balancer& balancer, const BackendRef& backend,
                                             const std::vector<uint32_t>& active, RequestHash hash,
                                             unsigned attempt) {
  switch (balancer.policy) {
    case LbPolicy::RoundRobin:
      return balancer.roundRobin->pick();
    case LbPolicy::LeastRequest: {
      scratchActive_.clear();
      for (size_t member : backend.members)
        scratchActive_.push_back(active[member]);
      return balancer.leastRequest->pick(scratchActive_);
    }
    case LbPolicy::Random:
      return balancer.randomPick->pick();
    case LbPolicy::RingHash:
      if (!hash) return balancer.randomPick->pick();
      // Later attempts (an unhealthy or excluded endpoint) rehash deterministically, so the same
      // key still lands on the same fallback.
      return balancer.ring->pick(attempt == 0 ? *hash
                                              : RingHash::hashKey(std::to_string(*hash + attempt)));
  }
  return std::nullopt;
}

std::optional<size_t> WorkerView::pickEndpoint(const CompiledRule& rule, size_t backendIndex,
                                               RequestHash hash, std::optional<size_t> exclude) {
  const BackendRef& backend = rule.backends[backendIndex];
  if (backend.members.empty()) return std::nullopt;
  const Cluster& cluster = snapshot_->clusters()[backend.cluster];
  Balancer& balancer = balancers_[rule.routeIndex][rule.ruleIndex][backendIndex];
  const auto& active = active_[backend.cluster];

  const auto usable = [&](size_t endpoint) {
    if (exclude && endpoint == *exclude && backend.members.size() > 1) return false;
    if (!cluster.endpoints[endpoint].health->healthy.load(std::memory_order_relaxed)) return false;
    return !(cluster.outliers && cluster.outliers->ejected(endpoint));
  };
  // A few balancer picks find a usable endpoint in the common case without scanning.
  const unsigned tries = static_cast<unsigned>(backend.members.size()) + 2;
  for (unsigned attempt = 0; attempt < tries; ++attempt) {
    const auto member = pickMember(balancer, backend, active, hash, attempt);
    if (!member) break;
    const size_t endpoint = backend.members[*member];
    if (usable(endpoint)) return endpoint;
  }
  for (size_t endpoint : backend.members)
    if (usable(endpoint)) return endpoint;
  // Panic: nothing healthy; try anyway rather than refuse every request, spreading the tries over
  // every member in turn (the balancer's own sequence may keep landing on the same one here).
  const size_t start = balancer.panicCursor++ % backend.members.size();
  for (size_t i = 0; i < backend.members.size(); ++i) {
    const size_t endpoint = backend.members[(start + i) % backend.members.size()];
    if (!(exclude && endpoint == *exclude && backend.members.size() > 1)) return endpoint;
  }
  return backend.members[start];
}

}  // namespace meshgate::dp
