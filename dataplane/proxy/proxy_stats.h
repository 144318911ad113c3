// ProxyStats: the proxy's Prometheus metrics, served by the admin listener as /stats. Families are
// registered once; the snapshot compiler looks series up per route and cluster so the request path
// only does relaxed atomic adds (metrics/counter.h). Thread-safe.
#pragma once

#include <array>
#include <string>

#include "metrics/registry.h"

namespace meshgate::dp {

// Counters of one (route rule, cluster) pair, by status class 1xx..5xx.
struct RouteClusterCounters {
  std::array<metrics::Counter*, 5> byClass{};
  void count(unsigned status) const {
    const unsigned klass = status / 100;
    if (klass >= 1 && klass <= 5) byClass[klass - 1]->inc();
  }
};

// Counters of one TCP listener (listeners[].tcp): its connections by how they ended up, and the
// bytes relayed each way.
struct TcpListenerCounters {
  metrics::Counter* proxied = nullptr;          // connected to an endpoint and relayed
  metrics::Counter* noEndpoint = nullptr;       // the cluster has no endpoint: closed at once
  metrics::Counter* connectFailed = nullptr;    // every connect attempt failed: closed
  metrics::Counter* overflow = nullptr;         // the cluster's maxConnections was reached: closed
  metrics::Counter* bytesToUpstream = nullptr;  // written to the endpoint
  metrics::Counter* bytesToDownstream = nullptr;  // written to the client
};

class ProxyStats {
 private:
  metrics::Registry registry_;  // first: the family references below are initialized from it

 public:
  ProxyStats();

  metrics::Registry& registry() { return registry_; }

  RouteClusterCounters routeCluster(const std::string& route, const std::string& cluster);
  TcpListenerCounters tcpListener(const std::string& listener);
  metrics::Histogram& routeLatency(const std::string& route);

  metrics::CounterFamily& requests;         // meshgate_proxy_requests_total
  metrics::HistogramFamily& latency;        // meshgate_proxy_request_duration_seconds
  metrics::GaugeFamily& activeRequests;     // meshgate_proxy_active_requests
  metrics::GaugeFamily& downstreamActive;   // meshgate_proxy_downstream_connections_active
  metrics::CounterFamily& downstreamTotal;  // meshgate_proxy_downstream_connections_total
  // meshgate_proxy_downstream_connections_rejected_total{reason}: shed at accept.
  metrics::CounterFamily& downstreamRejected;
  // meshgate_proxy_requests_shed_total{reason}: answered 503 before their body was read.
  metrics::CounterFamily& requestsShed;
  metrics::GaugeFamily& upstreamActive;    // meshgate_proxy_upstream_connections_active{cluster}
  metrics::CounterFamily& upstreamTotal;   // meshgate_proxy_upstream_connections_total{cluster}
  metrics::CounterFamily& upstreamErrors;  // meshgate_proxy_upstream_errors_total{cluster,kind}
  metrics::CounterFamily& retries;         // meshgate_proxy_retries_total{cluster}
  metrics::CounterFamily& overflows;       // meshgate_proxy_overflow_total{cluster,resource}
  metrics::CounterFamily& badRequests;     // meshgate_proxy_bad_requests_total{reason}
  metrics::CounterFamily& reloads;         // meshgate_proxy_config_reloads_total{result}
  // Gateway mode: 1 while the operator's config stream is up.
  metrics::GaugeFamily& controlPlaneConnected;  // meshgate_proxy_control_plane_connected
  metrics::CounterFamily& configUpdates;  // meshgate_proxy_config_updates_total{result=ack|nack}
  // meshgate_proxy_auth_denied_total{route, reason}: requests refused by authentication (401, or
  // 503 while the keys it needs are missing).
  metrics::CounterFamily& authDenied;
  // meshgate_proxy_rate_limited_total{route}: requests answered 429.
  metrics::CounterFamily& rateLimited;
  // meshgate_proxy_jwks_fetches_total{uri, result}: JWKS fetched from a `uri` (ok, error).
  metrics::CounterFamily& jwksFetches;
  // meshgate_proxy_identity_reloads_total{result}: sets of workload identity files read in sidecar
  // mode (ok, rejected).
  metrics::CounterFamily& identityReloads;
  // meshgate_proxy_mesh_connections_total{direction, handling}: connections the sidecar's mesh
  // listeners took (direction inbound|outbound; handling mtls, plaintext, passthrough, refused).
  metrics::CounterFamily& meshConnections;
  // meshgate_proxy_mesh_denied_total{direction, reason}: requests the mesh refused (403).
  metrics::CounterFamily& meshDenied;
  // meshgate_proxy_tcp_connections_total{listener, result}: connections a TCP listener took, by
  // result (proxied, no_endpoint, connect_failed, overflow).
  metrics::CounterFamily& tcpConnections;
  // meshgate_proxy_tcp_bytes_total{listener, direction}: bytes a TCP listener relayed, by direction
  // (downstream_to_upstream, upstream_to_downstream).
  metrics::CounterFamily& tcpBytes;
};

}  // namespace meshgate::dp
