// The sidecar turns the `mesh` section the operator streams into what the request path already
// serves: its two listeners (outbound and inbound, ListenerRole), a route per callable
// MeshService HTTP port whose one backend is that MeshService's cluster — so balancing, health,
// outlier ejection, retries, timeouts and breakers are the cluster's, as on a gateway — and a route
// and a loopback cluster per inbound HTTP port, whose endpoint is the application on 127.0.0.1.
// TCP ports get neither: the Snapshot makes TcpTargets of the outbound ones, and mesh_accept.h
// relays the inbound ones to the application itself. The routes' hosts are internal names no
// client sends (MeshTable finds them by original destination or Host instead); their names carry
// '|', which no Kubernetes object name can, so they never collide with the operator's. Pure.
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

struct MeshListenAddresses {
  std::string outboundAddress = "127.0.0.1";
  uint16_t outboundPort = 15001;
  std::string inboundAddress = "0.0.0.0";
  uint16_t inboundPort = 15006;
};

inline constexpr const char* kMeshOutboundListener = "mesh-outbound";
inline constexpr const char* kMeshInboundListener = "mesh-inbound";

// Route and cluster names of the expansion.
std::string meshOutboundRouteName(const std::string& service, uint16_t port);
std::string meshInboundRouteName(uint16_t port);

// Adds the listeners, routes and clusters of `config.mesh` (which must be set) to `config`; the
// inbound listener only when `inboundListener`. Call it once on a freshly decoded config.
void expandMeshConfig(ProxyConfig& config, const MeshListenAddresses& addresses,
                      bool inboundListener = true);

}  // namespace meshgate::dp
