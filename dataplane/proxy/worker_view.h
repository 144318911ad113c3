// WorkerView: one worker's mutable state for one Snapshot — the balancer of every backend (round
// robin position, random engine, in-flight counts for least request) and the weighted pick among
// each rule's backends; TCP listeners' targets are rules too (TcpTarget), picked the same way. A
// request holds the view it started with (shared_ptr), so a reload mid-request never mixes one
// snapshot's indexes with another's state. Used only on its worker's thread.
#pragma once

#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "dataplane/proxy/snapshot.h"
#include "dataplane/upstream/least_request.h"
#include "dataplane/upstream/random_balancer.h"
#include "dataplane/upstream/ring_hash.h"
#include "dataplane/upstream/smooth_round_robin.h"

namespace meshgate::dp {

// What a RingHash cluster hashes for one request; nullopt picks like Random.
using RequestHash = std::optional<uint64_t>;

class WorkerView {
 public:
  WorkerView(SnapshotPtr snapshot, uint64_t seed);

  const Snapshot& snapshot() const { return *snapshot_; }
  const SnapshotPtr& snapshotPtr() const { return snapshot_; }

  // Which backend of `rule` serves the next request (weighted smooth round robin); nullopt when
  // every weight is 0.
  std::optional<size_t> pickBackend(const CompiledRule& rule);

  // An endpoint index of the backend's cluster: healthy and not ejected when one is, else any
  // member (Envoy's panic mode: better to try than to refuse everything). `exclude` skips the
  // endpoint a failed attempt used, when another exists. `rule` may be a TcpTarget's.
  std::optional<size_t> pickEndpoint(const CompiledRule& rule, size_t backend, RequestHash hash,
                                     std::optional<size_t> exclude);

  // In-flight accounting for LeastRequest.
  void started(size_t cluster, size_t endpoint) { active_[cluster][endpoint]++; }
  void finished(size_t cluster, size_t endpoint) { active_[cluster][endpoint]--; }

  std::mt19937_64& random() { return random_; }

 private:
  struct Balancer {
    LbPolicy policy = LbPolicy::RoundRobin;
    std::optional<SmoothRoundRobin> roundRobin;
    std::optional<LeastRequest> leastRequest;
    std::optional<RandomBalancer> randomPick;
    std::optional<RingHash> ring;
    size_t panicCursor = 0;
  };
  // The backend picker and endpoint balancers of `rule`, at its [routeIndex][ruleIndex].
  void addBalancers(const CompiledRule& rule);
  std::optional<size_t> pickMember(Balancer& balancer, const BackendRef& backend,
                                   const std::vector<uint32_t>& active, RequestHash hash,
                                   unsigned attempt);

  SnapshotPtr snapshot_;
  std::mt19937_64 random_;
  // [route][rule] → backend picker; [route][rule][backend] → endpoint balancer. Routes past
  // snapshot().rules() are TCP targets, in order.
  std::vector<std::vector<std::optional<SmoothRoundRobin>>> backendPickers_;
  std::vector<std::vector<std::vector<Balancer>>> balancers_;
  std::vector<std::vector<uint32_t>> active_;  // [cluster][endpoint]
  std::vector<uint32_t> scratchActive_;
};

using WorkerViewPtr = std::shared_ptr<WorkerView>;

}  // namespace meshgate::dp
