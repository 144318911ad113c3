// ProxyServer: meshgate-proxy's process. Its config comes from one of two sources: a file
// (standalone: reloaded on SIGHUP and on file change) or, in gateway mode, the operator's config
// stream (config_stream_client.h), optionally backed by a persisted copy of the last snapshot
// served. Either way one all-or-nothing path applies it: decode, validate, compile into a
// Snapshot, bind the new listeners, then swap — any failure is logged with the field that is
// wrong, counted in /stats, and the last good config keeps serving. It also starts the workers,
// the health checker and the admin listener, and drains on SIGTERM or SIGINT (or requestStop()).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "base/file_watcher.h"
#include "dataplane/config/proxy_config_loader.h"
#include "dataplane/proxy/access_log.h"
#include "dataplane/proxy/config_stream_client.h"
#include "dataplane/proxy/endpoint_health.h"
#include "dataplane/proxy/health_checker.h"
#include "dataplane/proxy/mesh_expansion.h"
#include "dataplane/proxy/original_destination.h"
#include "dataplane/proxy/proxy_stats.h"
#include "dataplane/proxy/snapshot.h"
#include "dataplane/proxy/worker.h"
#include "dataplane/proxy/workload_identity_watcher.h"
#include "metrics/probe_server.h"

namespace meshgate::dp {

// meshgate-proxy's version, sent to the operator in Hello.
inline constexpr const char* kProxyVersion = "0.1.0";

// Gateway mode: the config comes from the operator.
struct GatewayOptions {
  // endpoint, certDir, hello (node, mode, ingressClass, proxyVersion) and the timeouts.
  ConfigStreamClientOptions stream;
  // Optional: where the last applied snapshot is kept (with its secrets, mode 0600).
  std::string snapshotFile;
  // Imposed on every streamed config; `admin` must be set: the admin listener starts on it at
  // once, before any config.
  BootstrapOverrides overrides;
};

// Sidecar mode (docs/MESH.md): the workload identity and the mesh listeners. The config comes
// from the stream of `gateway` (Hello mode "sidecar", its certDir the identity directory) when
// that is set; until the first snapshot, and without a control plane, the sidecar serves a
// bootstrap config that passes every outbound connection through, and every inbound one too when
// the pod has no identity (no MeshService selects it) — with an identity, the inbound listener
// waits for the operator's config, so no mesh port is ever served in plaintext by mistake.
struct SidecarMeshOptions {
  std::string certDir;  // the identity Secret volume: tls.crt, tls.key, ca.crt, or empty
  MeshListenAddresses listen;
  ListenAddress admin{"0.0.0.0", 15000};  // the kubelet probes the pod's address
  std::chrono::milliseconds identityPollInterval = WorkloadIdentityWatcher::kDefaultPollInterval;
  WallClock clock = [] { return std::chrono::system_clock::now(); };
  OriginalDestinationLookup originalDestination;  // tests; default: netfilter's
};

struct ProxyServerOptions {
  std::string configPath;                     // file mode
  std::optional<GatewayOptions> gateway;      // set: gateway mode (configPath unused)
  std::optional<SidecarMeshOptions> sidecar;  // set: sidecar mode (gateway: its stream, if any)
  size_t concurrency = 1;
  bool watchFile = true;
};

class ProxyServer {
 public:
  explicit ProxyServer(ProxyServerOptions options);
  ~ProxyServer();

  // Loads the config, serves until SIGTERM/SIGINT or requestStop(), drains. Returns the process
  // exit code.
  int run();

  // Thread-safe: begins the drain, as SIGTERM does; run() returns when it is over.
  void requestStop();
  // Thread-safe: the admin listener's bound port, 0 until it listens.
  uint16_t adminPort() const { return adminPort_.load(); }
  // Thread-safe: the version serving, "" before any config.
  std::string servingVersion() const;

 private:
  // Where the serving config came from, for /config_dump.
  enum class ConfigOrigin { kFile, kPersistedSnapshot, kControlPlane, kBootstrap };

  // Loads the file and swaps it in; on failure the current config stays. Main thread.
  bool reload(const std::string& why);
  // A streamed snapshot: the errors that refuse it (a Nack), or the routes it serves without
  // (an Ack). Main thread.
  ConfigStreamClient::ApplyResult applyStreamed(const std::string& version,
                                                const nlohmann::json& document);
  // Serves the persisted snapshot when there is a valid one. Main thread, at start.
  void loadPersistedSnapshot();
  // Sidecar mode: the config served before the operator's. Both modes: the reaction to a new or
  // dropped workload identity (the current config is compiled again with it). Main thread.
  void installBootstrap();
  void onIdentityChanged();
  bool sidecarHasIdentity() const;
  // The path every source shares once its config is decoded and validated: an identical config
  // is a no-op; otherwise compile, bind new listeners, adopt, health checks. Returns the error
  // that refused it, empty when it serves. Main thread.
  std::string install(ProxyConfig config, ConfigOrigin origin, const std::string& why);
  // Counts, logs and records a refused config (`message` may span lines).
  void refuse(const std::string& why, const std::string& message);
  Expected<bool, std::string> openListeners(const Snapshot& snapshot);
  void openAccessLog(const ProxyConfig& config);
  Expected<uint16_t, std::string> startAdmin(const std::string& address, uint16_t port);
  void drain();
  void collect(metrics::SampleWriter& writer);
  metrics::Page configDump();
  metrics::Page ready();
  // Readiness for /ready and /readyz: {ok, why}.
  std::pair<bool, std::string> readiness();

  struct OpenListener {
    std::string address;
    uint16_t port = 0;  // as configured (0: ephemeral)
    uint16_t boundPort = 0;
    std::vector<std::shared_ptr<tcp::acceptor>> acceptors;  // one per worker
  };

  ProxyServerOptions options_;
  boost::asio::io_context main_;
  boost::asio::signal_set reloadSignal_;
  boost::asio::signal_set stopSignals_;
  boost::asio::steady_timer drainTimer_;
  ProxyStats stats_;
  SteadyClock clock_;
  EndpointHealthRegistry health_;
  FilterResources filterResources_;  // main thread: Snapshot::build and install()
  std::unique_ptr<AccessLog> accessLog_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::map<std::string, OpenListener> listeners_;
  HealthChecker healthChecker_;
  std::unique_ptr<meshgate::FileWatcher> watcher_;
  std::unique_ptr<metrics::ProbeServer> admin_;
  metrics::CollectorHandle collector_;
  ConfigStreamClientSharedPtr stream_;                 // gateway mode
  std::unique_ptr<WorkloadIdentityWatcher> identity_;  // sidecar mode; gateway: its --cert-dir
  // Main thread: the identity the current snapshot was built with, and (sidecar mode) the config
  // it was expanded from (compiled again when the identity changes).
  WorkloadIdentitySharedPtr installedIdentity_;
  std::optional<ProxyConfig> meshSource_;
  std::atomic<uint16_t> adminPort_{0};
  mutable std::mutex mutex_;  // guards the fields below, read by the admin thread
  SnapshotPtr current_;
  ConfigOrigin origin_ = ConfigOrigin::kFile;
  std::chrono::system_clock::time_point appliedAt_;
  std::map<std::string, uint16_t> boundPorts_;
  bool draining_ = false;
  uint64_t reloadFailures_ = 0;
  std::string lastError_;
  // The routes serving now, by "namespace/name": a streamed route the proxy refuses falls back to
  // its form here (route_isolation.h). Main thread only.
  std::map<std::string, api::ApiRoute> lastGoodRoutes_;
  std::function<void()> drainPoll_;
};

}  // namespace meshgate::dp
