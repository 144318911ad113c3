// Snapshot: a ProxyConfig compiled for serving — the route table, each rule's backends, filters
// and policies resolved to clusters, each cluster's endpoints resolved to socket addresses with
// their shared health, outlier and circuit-breaker state, and the metric series requests count
// into. Built once per (re)load on the main thread, then shared read-only by every worker through
// a shared_ptr: a request keeps the snapshot it started with, so a reload never changes a request
// in flight. Only atomics inside (health, outliers, breakers, counters) change after build().
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "base/expected.h"
#include "dataplane/config/proxy_config.h"
#include "dataplane/proxy/endpoint_health.h"
#include "dataplane/proxy/filter_resources.h"
#include "dataplane/proxy/mesh_table.h"
#include "dataplane/proxy/mesh_tls.h"
#include "dataplane/proxy/proxy_stats.h"
#include "dataplane/proxy/request_filter.h"
#include "dataplane/proxy/sni_table.h"
#include "dataplane/proxy/tls_contexts.h"
#include "dataplane/router/route_table.h"
#include "dataplane/upstream/circuit_breaker.h"
#include "dataplane/upstream/clock.h"
#include "dataplane/upstream/outlier_detector.h"
#include "dataplane/upstream/retry_policy.h"

namespace meshgate::dp {

enum class LbPolicy { RoundRobin, LeastRequest, Random, RingHash };
enum class HashSource { None, Header, Cookie, SourceIP };

struct UpstreamEndpoint {
  boost::asio::ip::tcp::endpoint address;
  std::string key;  // "127.0.0.2:9000", the stats and health label
  // `key` plus how the cluster secures a connection ("+tls:<serverName>", "+mtls:<SPIFFE ID>"):
  // an idle connection is reused only by a cluster that would have opened the same one, in this
  // snapshot or a later one.
  std::string poolKey;
  uint32_t weight = 1;
  const std::map<std::string, std::string>* labels = nullptr;
  std::shared_ptr<EndpointHealth> health;
};

// One cluster at one port: endpoints without a port of their own take the backend's port, so a
// cluster used on two ports becomes two Clusters ("shop:8080", "shop:9090").
struct Cluster {
  std::string name;
  std::string key;
  const ClusterConfig* config = nullptr;  // inside the snapshot's ProxyConfig
  std::vector<UpstreamEndpoint> endpoints;
  LbPolicy policy = LbPolicy::RoundRobin;
  HashSource hashSource = HashSource::None;
  std::string hashName;                       // header (lower-case) or cookie name
  std::unique_ptr<OutlierDetector> outliers;  // null without outlierDetection
  std::unique_ptr<CircuitBreaker> breaker;
  std::optional<RetryPolicy> retries;  // always set by build()
  std::optional<std::chrono::milliseconds> perTryTimeout;
  std::optional<std::chrono::milliseconds> timeout;
  metrics::Gauge* connectionsActive = nullptr;
  metrics::Counter* connectionsOpened = nullptr;
  metrics::Counter* retried = nullptr;
  metrics::Counter* connectErrors = nullptr;
  metrics::Counter* resetErrors = nullptr;
  metrics::Counter* timeoutErrors = nullptr;
  std::array<metrics::Counter*, 4> overflow{};     // by CircuitBreaker::Resource
  std::shared_ptr<boost::asio::ssl::context> tls;  // upstream TLS when the cluster sets it
  // Sidecar: the SPIFFE ID a mesh service's endpoints must present (tls is then the workload's
  // mTLS client context); empty otherwise.
  std::string peerIdentity;
  bool http2 = false;  // the endpoints speak HTTP/2 (ClusterConfig::http2Ports)
};

// A backend of a rule: a cluster and the endpoints of its subset (all when no subset).
struct BackendRef {
  size_t cluster = 0;
  std::vector<size_t> members;  // indexes into Cluster::endpoints
  uint32_t weight = 1;
  RouteClusterCounters counters;
};

struct HeaderEdits {
  std::vector<std::pair<std::string, std::string>> set;  // names lower-case
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;  // lower-case
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
};

struct CompiledRule {
  size_t routeIndex = 0;
  size_t ruleIndex = 0;
  std::string statName;  // "namespace/name/rule-index"
  std::vector<BackendRef> backends;
  HeaderEdits requestHeaders;
  HeaderEdits responseHeaders;
  std::vector<std::string> pathPrefixes;  // the rule's PathPrefix values, for rewrite
  std::optional<std::string> rewritePathPrefix;
  std::optional<std::string> rewriteHostname;
  FilterChain filters;                 // run before the upstream: redirects (request_filter.h)
  std::optional<RetryPolicy> retries;  // overrides the cluster's
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<std::chrono::milliseconds> perTryTimeout;
  RouteClusterCounters directCounters;  // redirects and errors answered without a backend
  metrics::Histogram* latency = nullptr;
};

// Where a TCP connection is relayed to, compiled as a rule of one backend — its cluster at its
// port, every endpoint a member — so that WorkerView balances it with the code and state routes
// use (health, outlier ejection, panic mode), and its Cluster is the one routes to the same
// cluster and port share. Made for a TCP listener (listeners[].tcp), for each TLS passthrough
// route of a listener (listeners[].tlsPassthrough) and, in sidecar mode, for each TCP port of a
// MeshService this workload may call (its Cluster then originates mTLS like a mesh route's). The
// rule's routeIndex is routes().size() + the target's index in tcpTargets(): past the routes, it
// only names the target's balancer in WorkerView. It has no filters, header edits or request
// counters: a TCP connection's bytes are never parsed.
struct TcpTarget {
  // The listener's name; a passthrough route's "<listener>|<first server name>"; a mesh TCP
  // port's meshOutboundRouteName("<ns>/<name>", port), "outbound|shop/db|5432". The label of its
  // stats.
  std::string name;
  CompiledRule rule;
  std::chrono::milliseconds idleTimeout{0};
  TcpListenerCounters counters;
};

// A listener's current settings; the worker reads them per accepted connection, so a reload that
// changes certificates affects new connections only.
struct ListenerRuntime {
  ListenerConfig config;
  std::shared_ptr<ServerTls> tls;   // null for plain HTTP
  std::optional<size_t> tcpTarget;  // a TCP listener: its index in Snapshot::tcpTargets()
  SniTable passthrough;  // listeners[].tlsPassthrough: server name → tcpTargets() index
};

class Snapshot {
 public:
  // Compiles a validated config. Fails only on what validation cannot know (an address that does
  // not parse as a socket address). When `previous` has the same routes (an endpoint-only
  // change), its compiled route table is shared instead of built again.
  // `resources`: what filters keep across reloads (JWKS fetchers, rate-limit buckets; null in
  // tests: fresh buckets, no fetcher); `workers`: how many workers keep per-worker filter state.
  static Expected<std::shared_ptr<const Snapshot>, std::string> build(
      ProxyConfig config, EndpointHealthRegistry& health, ProxyStats& stats, const Clock& clock,
      const Snapshot* previous = nullptr, FilterResources* resources = nullptr, size_t workers = 1,
      std::shared_ptr<const WorkloadIdentity> identity = nullptr);

  const ProxyConfig& config() const { return config_; }
  const std::string& version() const { return config_.version; }
  const std::vector<Cluster>& clusters() const { return clusters_; }
  const std::vector<std::vector<CompiledRule>>& rules() const { return rules_; }
  const CompiledRule* select(const RequestView& request) const;
  const std::vector<ListenerRuntime>& listeners() const { return listeners_; }
  // TCP listeners' and passthrough routes', in listener order, then one per mesh TCP port
  // (MeshTable finds them).
  const std::vector<TcpTarget>& tcpTargets() const { return tcpTargets_; }
  // What compiled but will not work as configured (a rule whose auth Secret is missing answers
  // 503), for the caller to log.
  const std::vector<std::string>& warnings() const { return warnings_; }
  const ListenerRuntime* listener(std::string_view name) const;
  // The compiled route table (shared with the previous snapshot when the routes did not change).
  const RouteTable* routeTable() const { return table_.get(); }
  // Sidecar mode (config().mesh set): the mesh lookups. The mTLS contexts of the workload
  // identity the snapshot was built with (sidecar mode, or a gateway with mesh clusters; null
  // server/client without one).
  const MeshTable* mesh() const { return mesh_ ? &*mesh_ : nullptr; }
  const MeshTlsContexts& meshTls() const { return meshTls_; }

 private:
  Snapshot() = default;
  ProxyConfig config_;
  std::shared_ptr<const RouteTable> table_;
  std::vector<std::vector<CompiledRule>> rules_;  // [route][rule]
  std::vector<Cluster> clusters_;
  std::vector<ListenerRuntime> listeners_;
  std::vector<TcpTarget> tcpTargets_;
  std::vector<std::string> warnings_;
  std::optional<MeshTable> mesh_;
  MeshTlsContexts meshTls_;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace meshgate::dp
