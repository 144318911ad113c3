// SidecarServer: meshgate-proxy in sidecar mode as it is today, the first slice of the mesh
// sidecar the webhook injects into pods. It holds the pod's workload identity
// (workload_identity_watcher.h, from the optional identity Secret volume at --cert-dir) and serves
// the admin endpoint the kubelet probes: /ready, /identity, /stats, /healthz. It intercepts no
// traffic and does not connect to the config stream yet (the operator does not serve sidecars);
// those come with the mesh issue. Stops on SIGTERM or SIGINT (or requestStop()); SIGHUP re-reads
// the identity.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "dataplane/proxy/config_stream_client.h"
#include "dataplane/proxy/proxy_stats.h"
#include "dataplane/proxy/workload_identity_watcher.h"
#include "metrics/probe_server.h"

namespace meshgate::dp {

struct SidecarOptions {
  // --control-plane, validated and kept for the mesh issue: nothing connects to it yet.
  std::optional<ControlPlaneEndpoint> controlPlane;
  std::string certDir;  // the identity Secret volume: tls.crt, tls.key, ca.crt, or empty
  std::string node;     // "sidecar~<pod>.<namespace>", for the logs until the stream needs it
  // The kubelet probes the pod's address, so not only loopback.
  std::string adminAddress = "0.0.0.0:15000";
  size_t concurrency = 1;  // kept for the mesh issue: no workers run yet
  std::chrono::milliseconds identityPollInterval = WorkloadIdentityWatcher::kDefaultPollInterval;
  WallClock clock = [] { return std::chrono::system_clock::now(); };
};

class SidecarServer {
 public:
  explicit SidecarServer(SidecarOptions options);
  ~SidecarServer();
  SidecarServer(const SidecarServer&) = delete;
  SidecarServer& operator=(const SidecarServer&) = delete;

  // Reads the identity, starts the admin listener, serves until SIGTERM/SIGINT or requestStop().
  // Returns the process exit code: 1 when the admin listener cannot start.
  int run();

  // Thread-safe: run() returns soon after.
  void requestStop();
  // Thread-safe: the admin listener's bound port, 0 until it listens.
  uint16_t adminPort() const { return adminPort_.load(); }

 private:
  // The admin pages; called on the admin thread.
  metrics::Page readyPage() const;
  metrics::Page identityPage() const;
  void collect(metrics::SampleWriter& writer) const;

  const SidecarOptions options_;
  boost::asio::io_context main_;
  boost::asio::signal_set rereadSignal_;
  boost::asio::signal_set stopSignals_;
  ProxyStats stats_;
  WorkloadIdentityWatcher identity_;
  std::unique_ptr<metrics::ProbeServer> admin_;
  metrics::CollectorHandle collector_;
  std::atomic<uint16_t> adminPort_{0};
};

}  // namespace meshgate::dp
