// Registration of the proxy's metric families.
#include "dataplane/proxy/proxy_stats.h"

namespace meshgate::dp {

namespace {
// Proxy latencies are sub-millisecond to seconds: finer low buckets than the default set.
const std::vector<double> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
}  // namespace

ProxyStats::ProxyStats()
    : requests(registry_.counter("meshgate_proxy_requests_total",
                                 "Requests answered, by route, cluster and status class",
                                 {"route", "cluster", "code_class"})),
      latency(registry_.histogram("meshgate_proxy_request_duration_seconds",
                                  "Time from the end of the request head to the end of the "
                                  "response, by route",
                                  {"route"}, kLatencyBuckets)),
      activeRequests(
          registry_.gauge("meshgate_proxy_active_requests", "Requests in flight in the proxy")),
      downstreamActive(registry_.gauge("meshgate_proxy_downstream_connections_active",
                                       "Open client connections")),
      downstreamTotal(registry_.counter("meshgate_proxy_downstream_connections_total",
                                        "Client connections accepted")),
      downstreamRejected(registry_.counter(
          "meshgate_proxy_downstream_connections_rejected_total",
          "Client connections shed at accept (answered 503 or closed), by reason", {"reason"})),
      requestsShed(registry_.counter(
          "meshgate_proxy_requests_shed_total",
          "Requests answered 503 for want of proxy memory, before their body was read, by reason",
          {"reason"})),
      upstreamActive(registry_.gauge("meshgate_proxy_upstream_connections_active",
                                     "Open upstream connections, by cluster", {"cluster"})),
      upstreamTotal(registry_.counter("meshgate_proxy_upstream_connections_total",
                                      "Upstream connections opened, by cluster", {"cluster"})),
      upstreamErrors(registry_.counter(
          "meshgate_proxy_upstream_errors_total",
          "Failed upstream attempts, by cluster and kind (connect, reset, timeout)",
          {"cluster", "kind"})),
      retries(registry_.counter("meshgate_proxy_retries_total", "Retried upstream attempts",
                                {"cluster"})),
      overflows(registry_.counter("meshgate_proxy_overflow_total",
                                  "Requests refused by a circuit breaker, by cluster and limit",
                                  {"cluster", "resource"})),
      badRequests(registry_.counter("meshgate_proxy_bad_requests_total",
                                    "Client requests refused before routing, by reason",
                                    {"reason"})),
      reloads(registry_.counter("meshgate_proxy_config_reloads_total",
                                "Configuration loads, by result (success, failure)", {"result"})),
      controlPlaneConnected(registry_.gauge(
          "meshgate_proxy_control_plane_connected",
          "1 while the config stream from the operator is connected (gateway mode)")),
      configUpdates(registry_.counter(
          "meshgate_proxy_config_updates_total",
          "Snapshots received from the operator, by the answer sent (ack, nack)", {"result"})),
      authDenied(registry_.counter("meshgate_proxy_auth_denied_total",
                                   "Requests refused by authentication, by route rule and reason",
                                   {"route", "reason"})),
      rateLimited(registry_.counter("meshgate_proxy_rate_limited_total",
                                    "Requests answered 429 by a rate limit, by route rule",
                                    {"route"})),
      jwksFetches(registry_.counter("meshgate_proxy_jwks_fetches_total",
                                    "JWKS fetches from a route's jwks.uri, by result (ok, error)",
                                    {"uri", "result"})),
      identityReloads(registry_.counter(
          "meshgate_proxy_identity_reloads_total",
          "Sets of workload identity files read (sidecar mode), by result (ok, rejected)",
          {"result"})),
      meshConnections(registry_.counter(
          "meshgate_proxy_mesh_connections_total",
          "Connections the sidecar's mesh listeners took, by direction and handling (mtls, "
          "plaintext, passthrough, refused)",
          {"direction", "handling"})),
      meshDenied(registry_.counter(
          "meshgate_proxy_mesh_denied_total",
          "Requests (403) and TCP connections (closed) the mesh refused, by direction and reason",
          {"direction", "reason"})),
      tcpConnections(registry_.counter(
          "meshgate_proxy_tcp_connections_total",
          "Connections a TCP listener or mesh TCP port (outbound|<ns>/<name>|<port>, "
          "inbound|<port>) took, by result (proxied, no_endpoint, connect_failed, overflow)",
          {"listener", "result"})),
      tcpBytes(registry_.counter("meshgate_proxy_tcp_bytes_total",
                                 "Bytes a TCP listener or mesh TCP port relayed, by direction "
                                 "(downstream_to_upstream, upstream_to_downstream)",
                                 {"listener", "direction"})) {}

RouteClusterCounters ProxyStats::routeCluster(const std::string& route,
                                              const std::string& cluster) {
  RouteClusterCounters counters;
  static const std::array<std::string, 5> kClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (size_t i = 0; i < kClasses.size(); ++i)
    counters.byClass[i] = &requests.with({route, cluster, kClasses[i]});
  return counters;
}

TcpListenerCounters ProxyStats::tcpListener(const std::string& listener) {
  return {.proxied = &tcpConnections.with({listener, "proxied"}),
          .noEndpoint = &tcpConnections.with({listener, "no_endpoint"}),
          .connectFailed = &tcpConnections.with({listener, "connect_failed"}),
          .overflow = &tcpConnections.with({listener, "overflow"}),
          .bytesToUpstream = &tcpBytes.with({listener, "downstream_to_upstream"}),
          .bytesToDownstream = &tcpBytes.with({listener, "upstream_to_downstream"})};
}

metrics::Histogram& ProxyStats::routeLatency(const std::string& route) {
  return latency.with({route});
}

}  // namespace meshgate::dp
