// StatusWriter writes an object's status through the status subresource by server-side apply,
// and only when the status we want is not already what the cached object shows, nor the same
// write already made and not yet cached (RecentWrites) — so a reconcile that reaches the same
// verdict writes nothing. One per reconcile.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "api/api_route.h"
#include "api/mesh_service.h"
#include "kube/group_version_resource.h"
#include "kube/reconciler.h"
#include "kube/rest_client.h"
#include "operator/namespace_state.h"
#include "operator/recent_writes.h"

namespace meshgate::op {

class StatusWriter {
 public:
  // `recent` (the reconciler's, may be null) remembers writes the cache has not shown yet.
  StatusWriter(kube::RestClient& client, kube::GroupVersionResource gvr, const nlohmann::json& live,
               RecentWrites* recent = nullptr);

  // "" on success (written or unchanged), else the failure.
  std::string write(const api::MeshServiceStatus& status);
  std::string write(const api::ApiRouteStatus& status);
  std::string writeJson(const nlohmann::json& status);

  bool wrote() const { return wrote_; }
  // The last write failed because the object or its namespace is gone (deleted, or the
  // namespace is terminating): retrying cannot help; the watch brings the next change.
  bool targetGone() const { return targetGone_; }
  // The last write failed because the namespace itself does not exist (404 naming it).
  bool namespaceGone() const { return namespaceGone_; }
  // The namespace of the object whose status this writes.
  std::string ns() const { return live_["metadata"].value("namespace", ""); }

 private:
  kube::RestClient& client_;
  kube::GroupVersionResource gvr_;
  const nlohmann::json& live_;
  RecentWrites* recent_;
  bool wrote_ = false;
  bool targetGone_ = false;
  bool namespaceGone_ = false;
};

// What a reconcile returns when its status write failed: a terminal result when the target is
// gone (so an object orphaned in a deleted namespace is not retried forever), else a retry. A
// namespace the apiserver reported missing is remembered in `gone`.
kube::ReconcileResult statusFailure(const StatusWriter& writer, std::string failure,
                                    GoneNamespaces& gone);

}  // namespace meshgate::op
