// HealthChecker: active HTTP health checks of every endpoint of every cluster that configures
// healthCheck — GET <path> with Host set to the cluster name, every interval, with a timeout; a
// 2xx answer is a success (over HTTP/2 for a port in http2Ports, where the gRPC health-checking
// protocol's path makes it a gRPC check: http2_health_probe.h). healthyThreshold successes in a row
// mark an endpoint healthy, unhealthyThreshold failures unhealthy
// (dataplane/upstream/health_state.h); workers stop picking unhealthy endpoints. Runs on the main
// thread's io_context; watch() restarts the probes for a new snapshot (endpoint state carries over
// through EndpointHealthRegistry).
#pragma once

#include <cstdint>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "dataplane/proxy/snapshot.h"

namespace meshgate::dp {

class HealthChecker {
 public:
  explicit HealthChecker(boost::asio::io_context& context) : context_(context) {}

  void watch(SnapshotPtr snapshot);
  void stop() { generation_++; }

 private:
  boost::asio::awaitable<void> probeLoop(SnapshotPtr snapshot, size_t cluster, size_t endpoint,
                                         uint64_t generation);
  boost::asio::awaitable<bool> probeOnce(const Cluster& cluster, const UpstreamEndpoint& endpoint,
                                         const api::HealthCheck& check);

  boost::asio::io_context& context_;
  uint64_t generation_ = 0;
};

}  // namespace meshgate::dp
