// A MeshService's cluster from its spec and the EndpointSlice cache; see mesh_service_cluster.h.
#include "operator/mesh_service_cluster.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/duration.h"
#include "api/mesh_identity.h"
#include "api/schema_defaults.h"
#include "operator/mesh_service_children.h"
#include "operator/mesh_service_reconciler.h"

namespace meshgate::op {

namespace {

std::optional<api::Millis> durationOf(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  const auto parsed = api::Duration::parse(*text);
  if (!parsed) return std::nullopt;
  return parsed->value();
}

// A ready endpoint of the EndpointSlices Kubernetes keeps for a Service, with the key of its pod.
struct DiscoveredEndpoint {
  std::string address;
  std::string podKey;  // "namespace/name" of targetRef, "" when it names no pod
};

// The ready endpoints of the EndpointSlices Kubernetes keeps for the MeshService's Service; the
// operator's own static slices are left out (the static endpoints come from the spec itself).
std::vector<DiscoveredEndpoint> discoveredEndpoints(const kube::ThreadSafeStore& slices,
                                                    const std::string& serviceKey) {
  std::map<std::string, std::string> byAddress;
  for (const auto& slice : slices.byIndex(kEndpointSlicesByService, serviceKey)) {
    const auto& metadata = (*slice)["metadata"];
    const auto& labels = metadata.value("labels", nlohmann::json::object());
    if (labels.value("endpointslice.kubernetes.io/managed-by", "") == kEndpointSliceManager)
      continue;
    const auto endpoints = slice->find("endpoints");
    if (endpoints == slice->end() || !endpoints->is_array()) continue;
    for (const auto& endpoint : *endpoints) {
      if (!endpoint.is_object()) continue;
      const auto conditions = endpoint.value("conditions", nlohmann::json::object());
      if (conditions.is_object() && conditions.contains("ready") &&
          conditions["ready"].is_boolean() && !conditions["ready"].get<bool>())
        continue;
      const auto list = endpoint.find("addresses");
      if (list == endpoint.end() || !list->is_array() || list->empty() || !(*list)[0].is_string())
        continue;
      std::string podKey;
      const auto ref = endpoint.value("targetRef", nlohmann::json::object());
      if (ref.is_object() && ref.value("kind", "") == "Pod") {
        podKey =
            ref.value("namespace", metadata.value("namespace", "")) + "/" + ref.value("name", "");
      }
      byAddress.emplace((*list)[0].get<std::string>(), std::move(podKey));
    }
  }
  std::vector<DiscoveredEndpoint> out;
  for (auto& [address, podKey] : byAddress)
    out.push_back({address, std::move(podKey)});
  return out;
}

std::map<std::string, std::string> podLabels(const kube::ThreadSafeStore& pods,
                                             const std::string& podKey) {
  std::map<std::string, std::string> out;
  if (podKey.empty()) return out;
  const auto pod = pods.get(podKey);
  if (!pod) return out;
  const auto labels = (*pod)["metadata"].value("labels", nlohmann::json::object());
  if (!labels.is_object()) return out;
  for (const auto& [key, value] : labels.items())
    if (value.is_string()) out[key] = value.get<std::string>();
  return out;
}

}  // namespace

std::string mtlsModeOf(const api::MeshService& ms) {
  if (ms.spec.mtls && ms.spec.mtls->mode) return *ms.spec.mtls->mode;
  return std::string(api::kDefaultMtlsMode);
}

std::string meshServiceIdentity(const api::MeshService& ms, const std::string& trustDomain) {
  return api::spiffeId({.trustDomain = trustDomain,
                        .namespace_ = ms.metadata.namespace_,
                        .serviceAccount = serviceAccountOf(ms)});
}

api::ClusterConfig meshServiceCluster(const api::MeshService& ms,
                                      const kube::ThreadSafeStore& endpointSlices,
                                      const kube::ThreadSafeStore& pods) {
  api::ClusterConfig cluster;
  cluster.name = ms.metadata.name;
  cluster.namespace_ = ms.metadata.namespace_;
  for (const auto& port : ms.spec.ports) {
    cluster.targetPorts[static_cast<uint16_t>(port.port)] =
        static_cast<uint16_t>(port.targetPort.value_or(port.port));
    if (port.protocol == api::protocol::kHTTP2)
      cluster.http2Ports.push_back(static_cast<uint16_t>(port.port));
  }
  std::set<std::string> seen;
  for (const auto& endpoint : ms.spec.endpoints) {
    api::ClusterEndpoint out;
    out.address = endpoint.address;
    if (endpoint.port) out.port = static_cast<uint16_t>(*endpoint.port);
    out.weight = static_cast<uint32_t>(endpoint.weight.value_or(1));
    seen.insert(endpoint.address);
    cluster.endpoints.push_back(std::move(out));
  }
  for (const auto& discovered :
       discoveredEndpoints(endpointSlices, ms.metadata.namespace_ + "/" + ms.metadata.name)) {
    if (!seen.insert(discovered.address).second) continue;
    api::ClusterEndpoint out;
    out.address = discovered.address;
    out.labels = podLabels(pods, discovered.podKey);
    cluster.endpoints.push_back(std::move(out));
  }
  for (const auto& subset : ms.spec.subsets)
    cluster.subsets.push_back({subset.name, subset.labels});
  if (ms.spec.loadBalancer) cluster.loadBalancer = *ms.spec.loadBalancer;
  cluster.healthCheck = ms.spec.healthCheck;
  cluster.outlierDetection = ms.spec.outlierDetection;
  if (ms.spec.circuitBreaker) cluster.circuitBreaker = *ms.spec.circuitBreaker;
  cluster.timeout = durationOf(ms.spec.timeout);
  cluster.retries = ms.spec.retries;
  return cluster;
}

}  // namespace meshgate::op
