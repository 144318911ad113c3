// EndpointHealth: the active-health-check verdict on one upstream endpoint, written by the
// HealthChecker on the main thread and read by every worker when it balances. It outlives config
// reloads: the EndpointHealthRegistry hands the same object to every snapshot that keeps the
// endpoint, so a reload neither forgets an ejection nor re-probes from scratch.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "dataplane/upstream/health_state.h"

namespace meshgate::dp {

struct EndpointHealth {
  // Endpoints start healthy so traffic flows before the first probe answers (as Envoy does for
  // endpoints without a prior health status when the cluster is first added).
  std::atomic<bool> healthy{true};
  // The probe thresholds' progress; touched only by the HealthChecker on the main thread.
  std::optional<HealthState> checks;
};

// Thread-safe; called when a snapshot is built.
class EndpointHealthRegistry {
 public:
  // The state of `key` ("cluster/address:port"), created healthy the first time.
  std::shared_ptr<EndpointHealth> get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto& slot = states_[key];
    if (auto existing = slot.lock()) return existing;
    auto created = std::make_shared<EndpointHealth>();
    slot = created;
    return created;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<EndpointHealth>> states_;
};

}  // namespace meshgate::dp
