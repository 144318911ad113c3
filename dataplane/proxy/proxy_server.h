// ProxyServer: meshgate-proxy's process — loads and validates the config file, compiles it into a
// Snapshot, opens the listeners (one SO_REUSEPORT acceptor per worker), starts the workers, the
// health checker and the admin listener, reloads on SIGHUP and on file change, drains on SIGTERM
// or SIGINT. A reload is all or nothing: the new file is decoded, validated and compiled and its
// new listeners bound before anything is swapped; any failure is logged with the field that is
// wrong, counted in /stats, and the last good config keeps serving.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "dataplane/proxy/access_log.h"
#include "base/file_watcher.h"
#include "dataplane/proxy/endpoint_health.h"
#include "dataplane/proxy/health_checker.h"
#include "dataplane/proxy/proxy_stats.h"
#include "dataplane/proxy/snapshot.h"
#include "dataplane/proxy/worker.h"
#include "metrics/probe_server.h"

namespace meshgate::dp {

struct ProxyServerOptions {
  std::string configPath;
  size_t concurrency = 1;
  bool watchFile = true;
};

class ProxyServer {
 public:
  explicit ProxyServer(ProxyServerOptions options);
  ~ProxyServer();

  // Loads the config, serves until SIGTERM/SIGINT, drains. Returns the process exit code.
  int run();

 private:
  // Loads the file and swaps it in; on failure the current config stays. Main thread.
  bool reload(const std::string& why);
  Expected<bool, std::string> openListeners(const Snapshot& snapshot);
  void drain();
  void collect(metrics::SampleWriter& writer);
  metrics::Page configDump();

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
  std::unique_ptr<AccessLog> accessLog_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::map<std::string, OpenListener> listeners_;
  HealthChecker healthChecker_;
  std::unique_ptr<meshgate::FileWatcher> watcher_;
  std::unique_ptr<metrics::ProbeServer> admin_;
  metrics::CollectorHandle collector_;
  mutable std::mutex mutex_;  // guards current_ and draining_ for the admin thread
  SnapshotPtr current_;
  bool draining_ = false;
  uint64_t reloadFailures_ = 0;
  std::string lastError_;
  std::function<void()> drainPoll_;
};

}  // namespace meshgate::dp
