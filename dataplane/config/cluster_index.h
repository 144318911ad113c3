// ClusterIndex: which cluster a route's backend names. A backend `service` of a route in namespace
// N resolves to the cluster of that name in namespace N (the operator's clusters, one per
// MeshService), else to the namespace-less cluster of that name (a config file's). Used by the
// validator and by Snapshot::build, so they agree. Holds pointers into the config it indexes.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

class ClusterIndex {
 public:
  explicit ClusterIndex(const std::vector<ClusterConfig>& clusters) {
    for (const ClusterConfig& cluster : clusters)
      clusters_.emplace(std::make_pair(cluster.namespace_, cluster.name), &cluster);
  }

  // nullptr when neither exists.
  const ClusterConfig* find(std::string_view routeNamespace, std::string_view service) const {
    auto found = clusters_.find({std::string(routeNamespace), std::string(service)});
    if (found == clusters_.end()) found = clusters_.find({std::string(), std::string(service)});
    return found == clusters_.end() ? nullptr : found->second;
  }

 private:
  std::map<std::pair<std::string, std::string>, const ClusterConfig*> clusters_;
};

// "namespace/name" for a namespaced cluster, "name" otherwise: its label in stats and logs.
inline std::string clusterDisplayName(const ClusterConfig& cluster) {
  return cluster.namespace_.empty() ? cluster.name : cluster.namespace_ + "/" + cluster.name;
}

}  // namespace meshgate::dp
