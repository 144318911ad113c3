// ChildApplier writes the objects an owner (MeshService or ApiRoute) stands for: server-side
// apply with field manager "meshgate", but only when the cached live object does not already
// hold the desired state (zero writes at steady state) and the same write is not already on its
// way to the cache (RecentWrites), with a Normal Event for every write and a Warning for every
// failure. One per reconcile; not thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "kube/event_recorder.h"
#include "kube/group_version_resource.h"
#include "kube/rest_client.h"
#include "kube/thread_safe_store.h"
#include "operator/recent_writes.h"

namespace meshgate::op {

class ChildApplier {
 public:
  // `recent` (the reconciler's, may be null) remembers writes the cache has not shown yet.
  ChildApplier(kube::RestClient& client, kube::EventRecorder& events, const nlohmann::json& owner,
               RecentWrites* recent = nullptr);

  // Returns "" on success (written or already up to date), else the reason it failed.
  std::string apply(const kube::GroupVersionResource& gvr, nlohmann::json desired,
                    const kube::ThreadSafeStore& cache);
  std::string remove(const kube::GroupVersionResource& gvr, const std::string& ns,
                     const std::string& name);

  int writes() const { return writes_; }

 private:
  kube::RestClient& client_;
  kube::EventRecorder& events_;
  const nlohmann::json& owner_;
  RecentWrites* recent_;
  int writes_ = 0;
};

}  // namespace meshgate::op
