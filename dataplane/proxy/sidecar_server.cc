// Sidecar mode's process: SidecarOptions as a ProxyServer in sidecar mode; see sidecar_server.h.
#include "dataplane/proxy/sidecar_server.h"

#include "metrics/bind_address.h"

namespace meshgate::dp {

Expected<std::unique_ptr<SidecarServer>, std::string> SidecarServer::create(
    SidecarOptions options) {
  auto admin = ::metrics::parseBindAddress(options.adminAddress);
  if (!admin) return "admin address \"" + options.adminAddress + "\": " + admin.error();
  ProxyServerOptions proxy;
  proxy.concurrency = options.concurrency;
  proxy.configPath = options.configPath;
  proxy.watchFile = !options.configPath.empty();
  SidecarMeshOptions mesh;
  mesh.certDir = options.certDir;
  mesh.listen = options.listen;
  mesh.admin = ListenAddress{admin->address().to_string(), admin->port()};
  mesh.identityPollInterval = options.identityPollInterval;
  mesh.clock = options.clock;
  mesh.originalDestination = options.originalDestination;
  if (options.controlPlane && !options.configPath.empty())
    return std::string("a sidecar takes its config from the control plane or a file, not both");
  if (options.controlPlane) {
    GatewayOptions stream;
    stream.stream.endpoint = std::move(*options.controlPlane);
    // The workload certificate is the sidecar's credential on the stream.
    stream.stream.certDir = options.certDir;
    stream.stream.hello = {.node = options.node,
                           .mode = std::string(api::stream::kModeSidecar),
                           .ingressClass = "",
                           .version = "",
                           .proxyVersion = kProxyVersion};
    stream.overrides.admin = mesh.admin;
    proxy.gateway = std::move(stream);
  }
  proxy.sidecar = std::move(mesh);
  return std::unique_ptr<SidecarServer>(new SidecarServer(std::move(proxy)));
}

}  // namespace meshgate::dp
