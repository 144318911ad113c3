// Compiling a ProxyConfig into a Snapshot.
#include "dataplane/proxy/snapshot.h"

#include <algorithm>
#include <map>

#include "api/duration.h"
#include "base/ascii.h"
#include "dataplane/config/cluster_index.h"
#include "dataplane/proxy/filter_chain_builder.h"
#include "dataplane/proxy/mesh_expansion.h"

namespace meshgate::dp {

namespace {

using api::durationOr;
using std::chrono::milliseconds;

std::optional<milliseconds> optionalDuration(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  const auto parsed = api::Duration::parse(*text);
  if (!parsed) return std::nullopt;
  return parsed->value();
}

// Keys the cluster's idle connections by how they are secured (UpstreamEndpoint::poolKey):
// `security` is "" (plain), "+tls:<serverName>,<CA file>" or "+mtls:<SPIFFE ID>".
void keyPoolsBySecurity(Cluster& cluster, const std::string& security) {
  for (auto& endpoint : cluster.endpoints)
    endpoint.poolKey = endpoint.key + security;
}

std::string endpointKey(const boost::asio::ip::address& address, uint16_t port) {
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(port);
}

Expected<RetryPolicy, std::string> retryPolicy(const std::optional<api::Retries>& retries) {
  RetryConfig config;
  if (!retries) {
    // Without a policy, only what certainly never reached the upstream is retried, once: a
    // failed connect (as nginx's default proxy_next_upstream "error").
    config.retries = 1;
    config.retryOn = {"connect-failure"};
    return RetryPolicy::create(config);
  }
  config.retries = static_cast<uint32_t>(retries->attempts.value_or(1));
  config.retryOn = retries->retryOn;
  if (retries->backoff) {
    config.backoffBase = durationOr(retries->backoff->base, config.backoffBase);
    config.backoffMax = durationOr(retries->backoff->max, config.backoffMax);
  }
  return RetryPolicy::create(config);
}

HeaderEdits headerEdits(const std::optional<api::HeaderModifier>& modifier) {
  HeaderEdits edits;
  if (!modifier) return edits;
  for (const auto& header : modifier->set)
    edits.set.emplace_back(asciiLower(header.name), header.value);
  for (const auto& header : modifier->add)
    edits.add.emplace_back(asciiLower(header.name), header.value);
  for (const auto& name : modifier->remove)
    edits.remove.push_back(asciiLower(name));
  return edits;
}

bool labelsMatch(const std::map<std::string, std::string>& selector,
                 const std::map<std::string, std::string>& labels) {
  for (const auto& [key, value] : selector) {
    const auto found = labels.find(key);
    if (found == labels.end() || found->second != value) return false;
  }
  return true;
}

}  // namespace

const CompiledRule* Snapshot::select(const RequestView& request) const {
  const auto target = table_->select(request);
  if (!target) return nullptr;
  return &rules_[target->route][target->rule];
}

const ListenerRuntime* Snapshot::listener(std::string_view name) const {
  for (const auto& listener : listeners_)
    if (listener.config.name == name) return &listener;
  return nullptr;
}

Expected<std::shared_ptr<const Snapshot>, std::string> Snapshot::build(
    ProxyConfig config, EndpointHealthRegistry& health, ProxyStats& stats, const Clock& clock,
    const Snapshot* previous, FilterResources* resources, size_t workers,
    std::shared_ptr<const WorkloadIdentity> identity) {
  auto snapshot = std::shared_ptr<Snapshot>(new Snapshot());
  snapshot->config_ = std::move(config);
  const ProxyConfig& cfg = snapshot->config_;

  for (const auto& listener : cfg.listeners) {
    ListenerRuntime runtime{.config = listener, .tls = nullptr};
    if (listener.tls) {
      auto tls = ServerTls::build(*listener.tls);
      if (!tls) return "listeners[" + listener.name + "].tls: " + tls.error();
      runtime.tls = std::move(*tls);
    }
    snapshot->listeners_.push_back(std::move(runtime));
  }

  // The workload identity's mTLS contexts: a sidecar's listeners and calls, and a gateway's calls
  // to mesh clusters (meshIdentity).
  const bool meshClusters = std::any_of(cfg.clusters.begin(), cfg.clusters.end(),
                                        [](const auto& c) { return c.meshIdentity.has_value(); });
  if (identity && (cfg.mesh || meshClusters)) {
    auto tls = buildMeshTls(*identity);
    if (!tls) return "workload identity: " + tls.error();
    snapshot->meshTls_ = std::move(*tls);
  }

  if (previous != nullptr && previous->config_.routes == cfg.routes) {
    snapshot->table_ = previous->table_;
  } else {
    auto table = RouteTable::build(cfg.routes);
    if (!table) return table.error();
    snapshot->table_ = std::make_shared<const RouteTable>(std::move(*table));
  }

  const ClusterIndex clusterConfigs(cfg.clusters);
  std::map<std::string, size_t> clusterIndex;
  // Clusters are created in a first pass so that the vector never grows while rules point in.
  struct PendingBackend {
    size_t route, rule;
    size_t clusterIndex;
    const ClusterConfig* cluster;
    uint16_t port;
  };
  // The runtime Cluster of `cluster` at backend port `port`, created at its first use: routes and
  // TCP listeners naming the same cluster and port share it (and its stats, health, outliers and
  // breaker).
  const auto internCluster = [&](const ClusterConfig& cluster,
                                 uint16_t port) -> Expected<size_t, std::string> {
    const std::string clusterName = clusterDisplayName(cluster);
    bool everyEndpointHasPort = true;
    for (const auto& endpoint : cluster.endpoints)
      everyEndpointHasPort = everyEndpointHasPort && endpoint.port.has_value();
    const bool http2 = std::find(cluster.http2Ports.begin(), cluster.http2Ports.end(), port) !=
                       cluster.http2Ports.end();
    // One runtime Cluster per port when endpoints take the port from it, or when the port's
    // protocol sets it apart.
    std::string key =
        clusterName + (everyEndpointHasPort && !http2 ? "" : ":" + std::to_string(port));
    const auto target = cluster.targetPorts.find(port);
    const uint16_t defaultEndpointPort =
        target == cluster.targetPorts.end() ? port : target->second;
    if (const auto existing = clusterIndex.find(key); existing != clusterIndex.end())
      return existing->second;
    const size_t index = snapshot->clusters_.size();
    clusterIndex[key] = index;
    snapshot->clusters_.emplace_back();
    Cluster& runtime = snapshot->clusters_.back();
    runtime.name = clusterName;
    runtime.key = key;
    runtime.config = &cluster;
    runtime.http2 = http2;
    for (const auto& endpoint : cluster.endpoints) {
      boost::system::error_code ec;
      const auto address = boost::asio::ip::make_address(endpoint.address, ec);
      if (ec) return "cluster " + clusterName + ": invalid address " + endpoint.address;
      const uint16_t endpointPort = endpoint.port.value_or(defaultEndpointPort);
      UpstreamEndpoint upstream;
      upstream.address = boost::asio::ip::tcp::endpoint(address, endpointPort);
      upstream.key = endpointKey(address, endpointPort);
      upstream.weight = endpoint.weight;
      upstream.labels = &endpoint.labels;
      upstream.health = health.get(clusterName + "/" + upstream.key);
      runtime.endpoints.push_back(std::move(upstream));
    }
    const std::string policy = cluster.loadBalancer.policy.value_or("RoundRobin");
    runtime.policy = policy == "LeastRequest" ? LbPolicy::LeastRequest
                     : policy == "Random"     ? LbPolicy::Random
                     : policy == "RingHash"   ? LbPolicy::RingHash
                                              : LbPolicy::RoundRobin;
    if (const auto& hash = cluster.loadBalancer.hash) {
      if (hash->header) {
        runtime.hashSource = HashSource::Header;
        runtime.hashName = asciiLower(*hash->header);
      } else if (hash->cookie) {
        runtime.hashSource = HashSource::Cookie;
        runtime.hashName = *hash->cookie;
      } else if (hash->sourceIP.value_or(false)) {
        runtime.hashSource = HashSource::SourceIP;
      }
    }
    if (const auto& outlier = cluster.outlierDetection) {
      OutlierConfig outlierConfig;
      if (outlier->consecutiveErrors)
        outlierConfig.consecutiveErrors = static_cast<uint32_t>(*outlier->consecutiveErrors);
      outlierConfig.interval = durationOr(outlier->interval, outlierConfig.interval);
      outlierConfig.baseEjectionTime =
          durationOr(outlier->baseEjectionTime, outlierConfig.baseEjectionTime);
      if (outlier->maxEjectionPercent)
        outlierConfig.maxEjectionPercent = static_cast<uint32_t>(*outlier->maxEjectionPercent);
      runtime.outliers =
          std::make_unique<OutlierDetector>(outlierConfig, runtime.endpoints.size(), clock);
    }
    const auto& breaker = cluster.circuitBreaker;
    runtime.breaker = std::make_unique<CircuitBreaker>(CircuitBreakerLimits{
        .maxConnections =
            static_cast<uint32_t>(breaker.maxConnections.value_or(api::kDefaultMaxConnections)),
        .maxPendingRequests = static_cast<uint32_t>(
            breaker.maxPendingRequests.value_or(api::kDefaultMaxPendingRequests)),
        .maxRequests =
            static_cast<uint32_t>(breaker.maxRequests.value_or(api::kDefaultMaxRequests)),
        .maxRetries = static_cast<uint32_t>(breaker.maxRetries.value_or(api::kDefaultMaxRetries))});
    auto retries = retryPolicy(cluster.retries);
    if (!retries) return "cluster " + clusterName + ": " + retries.error();
    runtime.retries = std::move(*retries);
    if (cluster.retries) runtime.perTryTimeout = optionalDuration(cluster.retries->perTryTimeout);
    runtime.timeout = cluster.timeout;
    if (cluster.tls) {
      auto tls = buildClientTls(*cluster.tls);
      if (!tls) return "cluster " + clusterName + ": " + tls.error();
      runtime.tls = std::move(*tls);
    }
    std::string security;
    if (cluster.tls)
      security = "+tls:" + cluster.tls->serverName + "," + cluster.tls->caFile.value_or("");
    if (cluster.meshIdentity) security = "+mtls:" + *cluster.meshIdentity;
    keyPoolsBySecurity(runtime, security);
    if (cluster.meshIdentity) {
      // Without a workload identity the calls fail; they never go out in plaintext.
      runtime.tls = snapshot->meshTls_.client;
      runtime.peerIdentity = *cluster.meshIdentity;
      if (!runtime.tls)
        snapshot->warnings_.push_back("cluster " + clusterName + " calls mesh workload " +
                                      *cluster.meshIdentity +
                                      " but this proxy has no workload identity: its calls "
                                      "fail until one loads");
    }
    runtime.connectionsActive = &stats.upstreamActive.with({clusterName});
    runtime.connectionsOpened = &stats.upstreamTotal.with({clusterName});
    runtime.retried = &stats.retries.with({clusterName});
    runtime.connectErrors = &stats.upstreamErrors.with({clusterName, "connect"});
    runtime.resetErrors = &stats.upstreamErrors.with({clusterName, "reset"});
    runtime.timeoutErrors = &stats.upstreamErrors.with({clusterName, "timeout"});
    static const std::array<std::string, 4> kResources = {"connections", "pending_requests",
                                                          "requests", "retries"};
    for (size_t i = 0; i < kResources.size(); ++i)
      runtime.overflow[i] = &stats.overflows.with({clusterName, kResources[i]});
    return index;
  };
  std::vector<PendingBackend> pending;
  for (size_t routeIndex = 0; routeIndex < cfg.routes.size(); ++routeIndex) {
    const auto& route = cfg.routes[routeIndex];
    for (size_t ruleIndex = 0; ruleIndex < route.spec.rules.size(); ++ruleIndex) {
      for (const auto& backend : route.spec.rules[ruleIndex].backends) {
        const ClusterConfig* found =
            clusterConfigs.find(route.metadata.namespace_, backend.service);
        if (found == nullptr)
          return "route " + route.metadata.name + ": no cluster named " + backend.service;
        const auto port = static_cast<uint16_t>(backend.port);
        auto index = internCluster(*found, port);
        if (!index) return index.error();
        pending.push_back({routeIndex, ruleIndex, *index, found, port});
      }
    }
  }
  // TCP targets: their Clusters, made in this first pass too.
  struct PendingTcp {
    std::string name;
    std::chrono::milliseconds idleTimeout;
    size_t cluster;
    const ListenerConfig* listener = nullptr;  // a TCP or passthrough listener's target
    const std::vector<std::string>* serverNames = nullptr;  // a passthrough route's
  };
  std::vector<PendingTcp> pendingTcp;
  auto addListenerTarget = [&](const ListenerConfig& listener, std::string name,
                               const std::string& clusterName, const std::string& ns, uint16_t port,
                               std::chrono::milliseconds idleTimeout,
                               const std::vector<std::string>* serverNames) -> std::string {
    const ClusterConfig* found = clusterConfigs.find(ns.empty() ? "default" : ns, clusterName);
    if (found == nullptr) return "listener " + listener.name + ": no cluster named " + clusterName;
    auto index = internCluster(*found, port);
    if (!index) return index.error();
    pendingTcp.push_back({std::move(name), idleTimeout, *index, &listener, serverNames});
    return {};
  };
  for (const auto& listener : cfg.listeners) {
    if (const auto& tcp = listener.tcp) {
      auto problem = addListenerTarget(listener, listener.name, tcp->cluster, tcp->namespace_,
                                       tcp->port, tcp->idleTimeout, nullptr);
      if (!problem.empty()) return problem;
    }
    for (const auto& route : listener.tlsPassthrough) {
      // Named by its first server name: "tls|db.example.com".
      auto problem = addListenerTarget(
          listener, listener.name + "|" + (route.serverNames.empty() ? "" : route.serverNames[0]),
          route.cluster, route.namespace_, route.port, route.idleTimeout, &route.serverNames);
      if (!problem.empty()) return problem;
    }
  }
  if (cfg.mesh) {
    for (const auto& service : cfg.mesh->outbound) {
      if (!service.allowed) continue;
      const ClusterConfig* found = clusterConfigs.find(service.namespace_, service.name);
      if (found == nullptr && !service.tcpPorts.empty())
        return "mesh service " + service.namespace_ + "/" + service.name + ": no cluster";
      for (const uint16_t port : service.tcpPorts) {
        auto index = internCluster(*found, port);
        if (!index) return index.error();
        // A mesh TCP connection is as idle-bound as a passed-through one (timeouts.idle).
        pendingTcp.push_back({meshOutboundRouteName(service.namespace_ + "/" + service.name, port),
                              cfg.timeouts.idle, *index, nullptr, nullptr});
      }
    }
  }

  size_t next = 0;
  snapshot->rules_.resize(cfg.routes.size());
  for (size_t routeIndex = 0; routeIndex < cfg.routes.size(); ++routeIndex) {
    const auto& route = cfg.routes[routeIndex];
    const std::string routeName =
        (route.metadata.namespace_.empty() ? std::string("default") : route.metadata.namespace_) +
        "/" + route.metadata.name;
    for (size_t ruleIndex = 0; ruleIndex < route.spec.rules.size(); ++ruleIndex) {
      const api::RouteRule& rule = route.spec.rules[ruleIndex];
      CompiledRule compiled;
      compiled.routeIndex = routeIndex;
      compiled.ruleIndex = ruleIndex;
      compiled.statName = routeName + "/" + std::to_string(ruleIndex);
      for (const auto& backend : rule.backends) {
        const PendingBackend& resolved = pending[next++];
        BackendRef ref;
        ref.cluster = resolved.clusterIndex;
        const Cluster& cluster = snapshot->clusters_[ref.cluster];
        const ClusterConfig& clusterConfig = *resolved.cluster;
        const ClusterSubset* subset = nullptr;
        if (backend.subset) {
          for (const auto& candidate : clusterConfig.subsets)
            if (candidate.name == *backend.subset) subset = &candidate;
          if (!subset)
            return "route " + routeName + ": cluster " + cluster.name + " has no subset " +
                   *backend.subset;
        }
        for (size_t i = 0; i < cluster.endpoints.size(); ++i)
          if (!subset || labelsMatch(subset->labels, *cluster.endpoints[i].labels))
            ref.members.push_back(i);
        ref.weight = static_cast<uint32_t>(backend.weight.value_or(1));
        ref.counters = stats.routeCluster(compiled.statName, cluster.name);
        compiled.backends.push_back(std::move(ref));
      }
      if (rule.filters) {
        compiled.requestHeaders = headerEdits(rule.filters->requestHeaders);
        compiled.responseHeaders = headerEdits(rule.filters->responseHeaders);
        if (rule.filters->rewrite) {
          compiled.rewritePathPrefix = rule.filters->rewrite->pathPrefix;
          compiled.rewriteHostname = rule.filters->rewrite->hostname;
        }
      }
      for (const auto& match : rule.matches)
        if (match.path && match.path->type.value_or("PathPrefix") == "PathPrefix")
          compiled.pathPrefixes.push_back(match.path->value.value_or("/"));
      if (rule.matches.empty()) compiled.pathPrefixes.push_back("/");
      const FilterChainInputs filterInputs{.config = cfg,
                                           .route = route,
                                           .rule = rule,
                                           .statName = compiled.statName,
                                           .stats = stats,
                                           .resources = resources,
                                           .workers = workers};
      BuiltFilters built = buildFilterChain(filterInputs);
      compiled.filters = std::move(built.chain);
      for (auto& name : built.stripRequestHeaders)
        compiled.requestHeaders.remove.push_back(std::move(name));
      for (auto& name : built.stripResponseHeaders)
        compiled.responseHeaders.remove.push_back(std::move(name));
      for (auto& warning : built.warnings)
        snapshot->warnings_.push_back(std::move(warning));
      if (rule.retries) {
        auto retries = retryPolicy(rule.retries);
        if (!retries) return "route " + routeName + ": " + retries.error();
        compiled.retries = std::move(*retries);
        compiled.perTryTimeout = optionalDuration(rule.retries->perTryTimeout);
      }
      compiled.timeout = optionalDuration(rule.timeout);
      compiled.directCounters = stats.routeCluster(compiled.statName, "-");
      compiled.latency = &stats.routeLatency(compiled.statName);
      snapshot->rules_[routeIndex].push_back(std::move(compiled));
    }
  }
  for (const auto& pendingTarget : pendingTcp) {
    TcpTarget target;
    target.name = pendingTarget.name;
    target.idleTimeout = pendingTarget.idleTimeout;
    target.counters = stats.tcpListener(pendingTarget.name);
    target.rule.routeIndex = cfg.routes.size() + snapshot->tcpTargets_.size();
    target.rule.statName = "tcp/" + pendingTarget.name;
    BackendRef ref;
    ref.cluster = pendingTarget.cluster;
    for (size_t i = 0; i < snapshot->clusters_[pendingTarget.cluster].endpoints.size(); ++i)
      ref.members.push_back(i);
    target.rule.backends.push_back(std::move(ref));
    for (auto& runtime : snapshot->listeners_) {
      if (pendingTarget.listener == nullptr || runtime.config.name != pendingTarget.listener->name)
        continue;
      if (pendingTarget.serverNames == nullptr) {
        runtime.tcpTarget = snapshot->tcpTargets_.size();
        continue;
      }
      for (const auto& serverName : *pendingTarget.serverNames)
        runtime.passthrough.add(serverName, snapshot->tcpTargets_.size());
    }
    snapshot->tcpTargets_.push_back(std::move(target));
  }
  if (cfg.mesh) {
    snapshot->mesh_ = MeshTable::build(cfg, snapshot->rules_, snapshot->tcpTargets_, stats);
    // Calls to a mesh service originate mTLS with the workload certificate.
    for (const auto& target : snapshot->mesh_->outboundTargets()) {
      if (target.identity.empty()) continue;
      std::vector<size_t> clusters;
      if (target.rule != nullptr)
        for (const auto& backend : target.rule->backends)
          clusters.push_back(backend.cluster);
      if (target.tcpTarget)
        clusters.push_back(snapshot->tcpTargets_[*target.tcpTarget].rule.backends[0].cluster);
      for (const size_t index : clusters) {
        Cluster& cluster = snapshot->clusters_[index];
        cluster.tls = snapshot->meshTls_.client;
        cluster.peerIdentity = target.identity;
        keyPoolsBySecurity(cluster, "+mtls:" + target.identity);
      }
    }
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

}  // namespace meshgate::dp
