// ProbeServer is the plain-HTTP endpoint the operator and the webhook expose inside the pod:
// GET /metrics for Prometheus, GET /healthz and GET /readyz for the kubelet. The operator runs two
// (metrics on --metrics-bind-address, probes on --health-probe-bind-address); the webhook one.
//
//   ProbeServer probes({.routes = {.registry = &registry,
//                                  .readiness = [&] { return cachesSynced() ? HealthStatus{}
//                                                     : HealthStatus{false, "caches not synced"};
//                                                     }}});
//   auto port = probes.start("127.0.0.1:8081");
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/expected.h"
#include "metrics/probe_handler.h"

namespace metrics {

struct ProbeServerOptions {
  ProbeRoutes routes = {};
  // To receive one whole request, idle keep-alive time included: a client that connects and sends
  // nothing, or trickles, is disconnected after it.
  std::chrono::milliseconds readTimeout = std::chrono::seconds(10);
  std::chrono::milliseconds writeTimeout = std::chrono::seconds(10);
  // Connections beyond this are closed as soon as they are accepted; a scrape and a few probes
  // need a handful.
  std::size_t maxConnections = 64;
};

/**
 * Serves HTTP/1.1 with keep-alive on one io_context run by one thread of its own; requests and
 * the callbacks in routes (health checks, collectors) run on that thread, one at a time.
 *
 * start() and stop() are thread-safe, but must not be called from the server's own thread (from a
 * health check or a collector). The server may be started again after stop().
 */
class ProbeServer {
 public:
  explicit ProbeServer(ProbeServerOptions options);
  // Stops the server.
  ~ProbeServer();
  ProbeServer(const ProbeServer&) = delete;
  ProbeServer& operator=(const ProbeServer&) = delete;

  /**
   * Listens on bindAddress ("127.0.0.1:8080", "[::1]:0", ":8080"; see bind_address.h) and starts
   * serving. Returns the bound port — the ephemeral one for port 0 — or why listening failed.
   */
  meshgate::Expected<unsigned short, std::string> start(std::string_view bindAddress);

  // Closes the listener and every connection, and joins the thread; returns without waiting for
  // clients. Does nothing when not started.
  void stop();

 private:
  struct Running;

  const ProbeServerOptions options_;
  const ProbeHandler handler_;
  std::mutex mutex_;
  std::unique_ptr<Running> running_;  // guarded by mutex_
};

}  // namespace metrics
