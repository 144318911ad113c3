// The mesh section as listeners, routes and clusters.
#include "dataplane/proxy/mesh_expansion.h"

#include "api/mesh_identity.h"
#include "base/assert.h"
#include "dataplane/proxy/mesh_table.h"

namespace meshgate::dp {

std::string meshOutboundRouteName(const std::string& service, uint16_t port) {
  return "outbound|" + service + "|" + std::to_string(port);
}

std::string meshInboundRouteName(uint16_t port) {
  return "inbound|" + std::to_string(port);
}

void expandMeshConfig(ProxyConfig& config, const MeshListenAddresses& addresses,
                      bool inboundListener) {
  MESHGATE_ASSERT(config.mesh.has_value(), "expandMeshConfig needs a mesh section");
  const api::MeshConfig& mesh = *config.mesh;
  config.listeners.push_back({.name = kMeshOutboundListener,
                              .address = addresses.outboundAddress,
                              .port = addresses.outboundPort,
                              .tls = std::nullopt,
                              .role = api::ListenerRole::kMeshOutbound});
  if (inboundListener)
    config.listeners.push_back({.name = kMeshInboundListener,
                                .address = addresses.inboundAddress,
                                .port = addresses.inboundPort,
                                .tls = std::nullopt,
                                .role = api::ListenerRole::kMeshInbound});

  for (const auto& service : mesh.outbound) {
    if (!service.allowed) continue;
    for (const uint16_t port : service.ports) {
      api::ApiRoute route;
      route.metadata.name = meshOutboundRouteName(service.name, port);
      route.metadata.namespace_ = service.namespace_;
      route.spec.hosts = {std::to_string(port) + "." + service.name + "." + service.namespace_ +
                          ".outbound.meshgate.internal"};
      route.spec.rules.push_back(
          {.backends = {{.service = service.name, .port = static_cast<std::int64_t>(port)}}});
      config.routes.push_back(std::move(route));
    }
  }

  const auto self = api::parseSpiffeId(mesh.identity);
  const std::string ownNamespace = self ? self->namespace_ : std::string();
  for (const auto& inbound : mesh.inbound) {
    if (inbound.tcp) continue;  // relayed to the application by mesh_accept.h, never routed
    const std::string name = meshInboundRouteName(inbound.port);
    ClusterConfig cluster;
    cluster.name = name;
    cluster.namespace_ = ownNamespace;
    cluster.endpoints.push_back(
        {.address = "127.0.0.1", .port = inbound.port, .weight = 1, .labels = {}});
    cluster.connectTimeout = std::chrono::milliseconds(1000);
    if (inbound.http2) cluster.http2Ports = {inbound.port};
    config.clusters.push_back(std::move(cluster));
    api::ApiRoute route;
    route.metadata.name = name;
    route.metadata.namespace_ = ownNamespace;
    route.spec.hosts = {std::to_string(inbound.port) + ".inbound.meshgate.internal"};
    // The caller's identity header is the sidecar's to set: whatever the caller sent is removed.
    route.spec.rules.push_back(
        {.backends = {{.service = name, .port = static_cast<std::int64_t>(inbound.port)}},
         .filters = api::Filters{
             .requestHeaders = api::HeaderModifier{.remove = {std::string(kPeerIdentityHeader)}}}});
    config.routes.push_back(std::move(route));
  }
}

}  // namespace meshgate::dp
