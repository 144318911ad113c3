// Informer caches → a sidecar's ProxyConfig; see sidecar_config_builder.h.
#include "operator/sidecar_config_builder.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "api/mesh_service_codec.h"
#include "api/mesh_service_validation.h"
#include "api/schema_defaults.h"
#include "operator/gateway_config_builder.h"
#include "operator/mesh_service_children.h"
#include "operator/mesh_service_cluster.h"

namespace meshgate::op {

namespace {

// The DNS domain of Services (kubelet's --cluster-domain), which Kubernetes defaults to this.
constexpr std::string_view kClusterDomain = "cluster.local";

bool servedOverTcp(const api::ServicePort& port) {
  return port.protocol && *port.protocol == api::protocol::kTCP;
}

// The MeshService's ports served over HTTP (`tcp` false) or as TCP (`tcp` true), ascending.
std::vector<std::uint16_t> portsOf(const api::MeshService& ms, bool tcp) {
  std::vector<std::uint16_t> out;
  for (const auto& port : ms.spec.ports)
    if (servedOverTcp(port) == tcp) out.push_back(static_cast<std::uint16_t>(port.port));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// spec.clusterIPs (else spec.clusterIP) of the Service the operator made for the MeshService
// (mesh_service_children.h: same namespace and name); none while it is not cached yet.
std::vector<std::string> clusterIps(const kube::ThreadSafeStore& services, const std::string& key) {
  std::vector<std::string> out;
  const auto service = services.get(key);
  if (!service) return out;
  const auto spec = service->find("spec");
  if (spec == service->end() || !spec->is_object()) return out;
  auto add = [&](const nlohmann::json& ip) {
    if (!ip.is_string()) return;
    const auto text = ip.get<std::string>();
    if (text.empty() || text == "None") return;  // a headless Service has no cluster IP
    if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(text);
  };
  if (const auto ips = spec->find("clusterIPs"); ips != spec->end() && ips->is_array()) {
    for (const auto& ip : *ips)
      add(ip);
  }
  if (const auto ip = spec->find("clusterIP"); out.empty() && ip != spec->end()) add(*ip);
  return out;
}

std::optional<std::vector<api::AuthorizationRule>> allowListOf(const api::MeshService& ms) {
  if (!ms.spec.authorization) return std::nullopt;
  return ms.spec.authorization->allow;
}

api::MeshOutboundService outboundOf(const SidecarService& entry,
                                    const api::WorkloadIdentity& caller) {
  const api::MeshService& ms = entry.service;
  const std::string& name = ms.metadata.name;
  const std::string& ns = ms.metadata.namespace_;
  api::MeshOutboundService out;
  out.name = name;
  out.namespace_ = ns;
  out.addresses = entry.addresses;
  out.ports = entry.ports;
  out.tcpPorts = entry.tcpPorts;
  out.hosts = {name + "." + ns + ".svc." + std::string(kClusterDomain), name + "." + ns + ".svc",
               name + "." + ns};
  // A bare name resolves only from the Service's own namespace (the pod's DNS search path).
  if (ns == caller.namespace_) out.hosts.push_back(name);
  if (mtlsModeOf(ms) != api::mtls_mode::kDisabled)
    out.identity = meshServiceIdentity(ms, caller.trustDomain);
  out.allowed = api::authorizationAdmits(allowListOf(ms), ns, caller.trustDomain, caller);
  return out;
}

}  // namespace

SidecarInputs buildSidecarInputs(const SidecarCaches& caches) {
  SidecarInputs out;
  auto live = caches.meshServices.list();
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return kube::keyOf(*a) < kube::keyOf(*b); });
  for (const auto& object : live) {
    auto decoded = api::decodeMeshService(*object);
    if (!decoded.ok() || !api::validateMeshService(*decoded.object).empty()) continue;
    SidecarService entry;
    entry.service = std::move(*decoded.object);
    entry.ports = portsOf(entry.service, false);
    entry.tcpPorts = portsOf(entry.service, true);
    const auto& metadata = entry.service.metadata;
    entry.generation = objectGeneration(*object);
    entry.addresses = clusterIps(caches.services, metadata.namespace_ + "/" + metadata.name);
    entry.cluster = meshServiceCluster(entry.service, caches.endpointSlices, caches.pods);
    out.services.push_back(std::move(entry));
  }
  return out;
}

BuiltSnapshot assembleSidecarSnapshot(const SidecarInputs& inputs,
                                      const api::WorkloadIdentity& caller) {
  BuiltSnapshot out;
  api::MeshConfig mesh;
  mesh.identity = api::spiffeId(caller);
  mesh.trustDomain = caller.trustDomain;

  // The MeshServices this identity serves, oldest first (then by name): when two of them declare
  // the same target port, the oldest one's policy holds it — the same rule as for route claims —
  // so the choice does not depend on which replica builds or in which order the cache lists.
  std::vector<const SidecarService*> served;
  for (const auto& entry : inputs.services) {
    const api::MeshService& ms = entry.service;
    out.contents.generations[meshServiceObjectKey(ms.metadata.namespace_, ms.metadata.name)] =
        entry.generation;
    api::MeshOutboundService outbound = outboundOf(entry, caller);
    if (outbound.allowed) out.config.clusters.push_back(entry.cluster);
    mesh.outbound.push_back(std::move(outbound));
    if (ms.metadata.namespace_ == caller.namespace_ &&
        serviceAccountOf(ms) == caller.serviceAccount)
      served.push_back(&entry);
  }
  std::stable_sort(served.begin(), served.end(), [](const auto* a, const auto* b) {
    return std::tie(a->service.metadata.creationTimestamp, a->service.metadata.name) <
           std::tie(b->service.metadata.creationTimestamp, b->service.metadata.name);
  });
  std::map<std::uint16_t, api::MeshInboundPort> inbound;  // by target port: ascending
  for (const SidecarService* entry : served) {
    const api::MeshService& ms = entry->service;
    for (const auto& port : ms.spec.ports) {
      const auto target = static_cast<std::uint16_t>(port.targetPort.value_or(port.port));
      inbound.try_emplace(target, api::MeshInboundPort{
                                      .port = target,
                                      .mtlsMode = mtlsModeOf(ms),
                                      .allow = allowListOf(ms),
                                      .service = ms.metadata.namespace_ + "/" + ms.metadata.name,
                                      .http2 = port.protocol == api::protocol::kHTTP2,
                                      .tcp = servedOverTcp(port),
                                  });
    }
  }
  for (auto& [port, entry] : inbound)
    mesh.inbound.push_back(std::move(entry));
  out.config.mesh = std::move(mesh);
  sealSnapshot(out);
  return out;
}

BuiltSnapshot buildSidecarSnapshot(const SidecarCaches& caches,
                                   const api::WorkloadIdentity& caller) {
  return assembleSidecarSnapshot(buildSidecarInputs(caches), caller);
}

}  // namespace meshgate::op
