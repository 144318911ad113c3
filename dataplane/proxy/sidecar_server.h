// SidecarServer: meshgate-proxy in sidecar mode, the mesh sidecar the webhook injects into pods
// (docs/MESH.md). It is a ProxyServer in sidecar mode: it holds the pod's workload identity
// (workload_identity_watcher.h, from the optional identity Secret volume at --cert-dir), takes the
// application's captured connections on its outbound (127.0.0.1:15001) and inbound (0.0.0.0:15006)
// listeners, receives from the operator's config stream (Hello mode "sidecar", authenticated by the
// workload certificate) what its identity may see, and serves the admin endpoint the kubelet
// probes: /ready, /identity, /stats, /config_dump. Stops on SIGTERM or SIGINT (or requestStop());
// SIGHUP re-reads the identity.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dataplane/proxy/config_stream_client.h"
#include "dataplane/proxy/proxy_server.h"

namespace meshgate::dp {

struct SidecarOptions {
  // --control-plane; absent: the sidecar serves its bootstrap config only (everything passes
  // through).
  std::optional<ControlPlaneEndpoint> controlPlane;
  // --config: a static config with a `mesh` section instead of the stream (reloaded on change and
  // SIGHUP), e.g. for bench/mesh; exclusive with controlPlane.
  std::string configPath;
  std::string certDir;  // the identity Secret volume: tls.crt, tls.key, ca.crt, or empty
  std::string node;     // "sidecar~<pod>.<namespace>", sent in the Hello
  // The kubelet probes the pod's address, so not only loopback.
  std::string adminAddress = "0.0.0.0:15000";
  MeshListenAddresses listen;
  size_t concurrency = 1;
  std::chrono::milliseconds identityPollInterval = WorkloadIdentityWatcher::kDefaultPollInterval;
  WallClock clock = [] { return std::chrono::system_clock::now(); };
  OriginalDestinationLookup originalDestination;  // tests; default: netfilter's
};

class SidecarServer {
 public:
  // Fails on an admin address that is not HOST:PORT.
  static Expected<std::unique_ptr<SidecarServer>, std::string> create(SidecarOptions options);

  // Serves until SIGTERM/SIGINT or requestStop(). Returns the process exit code: 1 when a
  // listener cannot start.
  int run() { return proxy_->run(); }
  // Thread-safe: run() returns soon after.
  void requestStop() { proxy_->requestStop(); }
  // Thread-safe: the admin listener's bound port, 0 until it listens.
  uint16_t adminPort() const { return proxy_->adminPort(); }

 private:
  explicit SidecarServer(ProxyServerOptions options)
      : proxy_(std::make_unique<ProxyServer>(std::move(options))) {}
  std::unique_ptr<ProxyServer> proxy_;
};

}  // namespace meshgate::dp
