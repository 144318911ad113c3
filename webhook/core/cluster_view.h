// ClusterView: what admission decisions read from the cluster besides the object under review —
// Namespaces (labels meshgate.io/inject, annotation meshgate.io/allowed-hosts), the ApiRoutes
// claiming a host (conflicts) and MeshServices (backend references). The webhook implements it
// with informer caches (informer_cluster_view.h); tests with a map. Thread-safe: called from the
// server's threads concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshgate::webhook {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

class ClusterView {
 public:
  virtual ~ClusterView() = default;

  // The Namespace object, or null when the cache does not hold it (yet).
  virtual ObjectPtr namespaceObject(const std::string& name) const = 0;
  // Every ApiRoute, in any namespace, whose spec.hosts contains `host` exactly (as written).
  virtual std::vector<ObjectPtr> apiRoutesWithHost(const std::string& host) const = 0;
  // The MeshService namespace/name, or null.
  virtual ObjectPtr meshService(const std::string& ns, const std::string& name) const = 0;
};

}  // namespace meshgate::webhook
