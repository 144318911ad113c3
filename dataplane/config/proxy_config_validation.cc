// ProxyConfig validation; see proxy_config_validation.h. The checks run in the order of the
// sections in docs/PROXY_CONFIG.md (version, admin, listeners, routes, clusters, timeouts, limits,
// accessLog), which is the order the errors are reported in.
#include "dataplane/config/proxy_config_validation.h"
#include "dataplane/config/secret_validation.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/api_route_validation.h"
#include "api/duration.h"
#include "api/mesh_identity.h"
#include "api/mesh_service_validation.h"
#include "api/proxy_config_codec.h"
#include "api/retries_validation.h"
#include "api/traffic_policy_validation.h"
#include "api/value_rules.h"
#include "dataplane/config/cluster_index.h"
#include "dataplane/config/pem_files.h"
#include "dataplane/router/route_table.h"

namespace meshgate::dp {
namespace {

using api::ErrorList;
using api::FieldError;
using api::FieldPath;

const std::vector<std::string>& tlsVersions() {
  static const std::vector<std::string> values = {"TLSv1.2", "TLSv1.3"};
  return values;
}

std::string durationText(Millis value) {
  if (value.count() < 0) return "-" + api::Duration(-value).format();
  return api::Duration(value).format();
}

void validateNonNegativeDuration(Millis value, const FieldPath& path, ErrorList& errors) {
  if (value.count() < 0) {
    errors.push_back(FieldError::invalid(path, durationText(value), "must not be negative"));
  }
}

void validatePositiveDuration(Millis value, const FieldPath& path, ErrorList& errors) {
  if (value.count() <= 0) {
    errors.push_back(
        FieldError::invalid(path, durationText(value), std::string(api::kPositiveDurationMessage)));
  }
}

// The socket a listener (or the admin endpoint) binds, to find two that would collide.
struct BoundSocket {
  std::string owner;    // "listeners[0]" or "admin"
  std::string address;  // as written
  uint16_t port = 0;
};

// The 16 bytes of an IPv6 address or the 4 of an IPv4 one, so that different spellings of one
// address compare equal; nullopt for an invalid address (reported elsewhere).
std::optional<std::string> addressBytes(const std::string& address) {
  std::array<unsigned char, sizeof(in6_addr)> buf{};
  if (inet_pton(AF_INET, address.c_str(), buf.data()) == 1) {
    return std::string(reinterpret_cast<const char*>(buf.data()), sizeof(in_addr));
  }
  if (inet_pton(AF_INET6, address.c_str(), buf.data()) == 1) {
    return std::string(reinterpret_cast<const char*>(buf.data()), sizeof(in6_addr));
  }
  return std::nullopt;
}

bool isUnspecified(const std::string& bytes) {
  return bytes.find_first_not_of('\0') == std::string::npos;
}

// Two sockets collide on the same port when their addresses are equal or either is a wildcard
// (0.0.0.0 or ::, which binds every address; :: usually covers IPv4 too). Port 0 never collides:
// the kernel picks a free port.
bool collide(const BoundSocket& a, const BoundSocket& b) {
  if (a.port == 0 || a.port != b.port) return false;
  const auto x = addressBytes(a.address);
  const auto y = addressBytes(b.address);
  if (!x || !y) return false;
  return *x == *y || isUnspecified(*x) || isUnspecified(*y);
}

std::string hostPort(const std::string& address, uint16_t port) {
  const bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

void validateSocketConflicts(const BoundSocket& socket, const std::vector<BoundSocket>& earlier,
                             const FieldPath& portPath, ErrorList& errors) {
  for (const BoundSocket& other : earlier) {
    if (!collide(socket, other)) continue;
    errors.push_back(FieldError::invalid(
        portPath, socket.port,
        "conflicts with " + other.owner + " (" + hostPort(other.address, other.port) + ")"));
    return;
  }
}

void validateAddress(const std::string& address, const FieldPath& path, ErrorList& errors) {
  if (api::validateRequired(address, path, errors)) api::validateIpAddress(address, path, errors);
}

void validateAdmin(const AdminConfig& admin, const FieldPath& path, ErrorList& errors) {
  validateAddress(admin.address, path.child("address"), errors);
}

void validateCertificateFiles(const TlsCertificate& files, const FieldPath& path,
                              ErrorList& errors) {
  const FieldPath certPath = path.child("certFile");
  const FieldPath keyPath = path.child("keyFile");
  bool certOk = false;
  bool keyOk = false;
  if (api::validateRequired(files.certFile, certPath, errors)) {
    const std::string problem = checkCertificateFile(files.certFile);
    if (!problem.empty()) errors.push_back(FieldError::invalid(certPath, files.certFile, problem));
    certOk = problem.empty();
  }
  if (api::validateRequired(files.keyFile, keyPath, errors)) {
    const std::string problem = checkPrivateKeyFile(files.keyFile);
    if (!problem.empty()) errors.push_back(FieldError::invalid(keyPath, files.keyFile, problem));
    keyOk = problem.empty();
  }
  if (certOk && keyOk) {
    const std::string problem = checkKeyMatchesCertificate(files.certFile, files.keyFile);
    if (!problem.empty()) errors.push_back(FieldError::invalid(keyPath, files.keyFile, problem));
  }
}

// Inline PEM (streamed from a Secret). The key's value never appears in an error.
void validateCertificatePem(const TlsCertificate& pem, const FieldPath& path, ErrorList& errors) {
  const FieldPath certPath = path.child("certificatePem");
  const FieldPath keyPath = path.child("privateKeyPem");
  bool certOk = false;
  bool keyOk = false;
  if (api::validateRequired(pem.certificatePem, certPath, errors)) {
    const std::string problem = checkCertificatePem(pem.certificatePem);
    if (!problem.empty()) errors.push_back(FieldError::invalid(certPath, "<PEM>", problem));
    certOk = problem.empty();
  }
  if (api::validateRequired(pem.privateKeyPem, keyPath, errors)) {
    const std::string problem = checkPrivateKeyPem(pem.privateKeyPem);
    if (!problem.empty()) {
      errors.push_back(FieldError::invalid(keyPath, std::string(api::kRedacted), problem));
    }
    keyOk = problem.empty();
  }
  if (certOk && keyOk) {
    const std::string problem =
        checkKeyMatchesCertificatePem(pem.certificatePem, pem.privateKeyPem);
    if (!problem.empty()) {
      errors.push_back(FieldError::invalid(keyPath, std::string(api::kRedacted), problem));
    }
  }
}

// A certificate is given as files or as inline PEM, never both.
void validateCertificate(const TlsCertificate& certificate, const FieldPath& path,
                         ErrorList& errors) {
  const bool files = !certificate.certFile.empty() || !certificate.keyFile.empty();
  const bool pem = !certificate.certificatePem.empty() || !certificate.privateKeyPem.empty();
  if (files && pem) {
    errors.push_back(FieldError::invalid(
        path, "certFile and certificatePem",
        "give the certificate either as files (certFile, keyFile) or inline (certificatePem, "
        "privateKeyPem), not both"));
    return;
  }
  if (pem) return validateCertificatePem(certificate, path, errors);
  validateCertificateFiles(certificate, path, errors);
}

void validateListenerTls(const ListenerTls& tls, const FieldPath& path, ErrorList& errors) {
  api::validateEnum(tls.minVersion, tlsVersions(), path.child("minVersion"), errors);
  const FieldPath certificates = path.child("certificates");
  if (tls.certificates.empty()) {
    errors.push_back(FieldError::required(certificates));
    return;
  }
  for (std::size_t i = 0; i < tls.certificates.size(); ++i) {
    validateCertificate(tls.certificates[i], certificates.index(i), errors);
  }
}

// Where a TCP listener or a passthrough route relays to: a cluster that resolves as a route
// backend's does (ClusterIndex), its namespace standing for the route's ("default" when empty),
// and that does not ask for TLS of its own (`tlsRule` says why not), a port and an idle timeout.
void validateRelayTarget(const std::string& clusterName, const std::string& ns, uint16_t port,
                         std::chrono::milliseconds idleTimeout, const ClusterIndex& clusters,
                         const FieldPath& path, std::string_view tlsRule, ErrorList& errors) {
  const FieldPath cluster = path.child("cluster");
  if (!ns.empty()) api::validateDnsLabel(ns, path.child("namespace"), errors);
  if (api::validateRequired(clusterName, cluster, errors)) {
    const ClusterConfig* target = clusters.find(ns.empty() ? "default" : ns, clusterName);
    if (target == nullptr)
      errors.push_back(FieldError::notFound(cluster, clusterName, "no cluster of that name"));
    else if (target->tls || target->meshIdentity)
      errors.push_back(FieldError::forbidden(cluster, std::string(tlsRule)));
  }
  api::validatePort(port, path.child("port"), errors);
  validatePositiveDuration(idleTimeout, path.child("idleTimeout"), errors);
}

void validateTcpProxy(const ListenerConfig& listener, const ClusterIndex& clusters,
                      const FieldPath& path, ErrorList& errors) {
  const api::TcpProxyConfig& tcp = *listener.tcp;
  if (listener.tls) {
    errors.push_back(FieldError::forbidden(
        path, "a TCP listener relays the bytes it receives; it may not also terminate tls"));
  }
  if (listener.role != api::ListenerRole::kGateway) {
    errors.push_back(FieldError::forbidden(
        path, "mesh listeners relay TCP by original destination, not to one cluster"));
  }
  // The relay would send in plaintext what the cluster says must be encrypted.
  validateRelayTarget(tcp.cluster, tcp.namespace_, tcp.port, tcp.idleTimeout, clusters, path,
                      "a TCP listener does not originate TLS: its cluster may not set tls or "
                      "meshIdentity",
                      errors);
}

// TLS passthrough routes: names as route hosts are (lower-case RFC 1123, "*." prefix allowed),
// none twice on the listener; targets as a TCP listener's (the client's TLS is relayed as it is).
void validateTlsPassthrough(const ListenerConfig& listener, const ClusterIndex& clusters,
                            const FieldPath& path, ErrorList& errors) {
  if (listener.tcp)
    errors.push_back(FieldError::forbidden(
        path,
        "a listener relays every connection to one cluster (tcp) or picks by server name, "
        "not both"));
  if (listener.role != api::ListenerRole::kGateway)
    errors.push_back(FieldError::forbidden(path, "gateway listeners only"));
  std::set<std::string> seen;
  for (std::size_t i = 0; i < listener.tlsPassthrough.size(); ++i) {
    const api::TlsPassthroughRoute& route = listener.tlsPassthrough[i];
    const FieldPath item = path.index(i);
    const FieldPath names = item.child("serverNames");
    if (route.serverNames.empty()) errors.push_back(FieldError::required(names));
    for (std::size_t j = 0; j < route.serverNames.size(); ++j) {
      const std::string& name = route.serverNames[j];
      api::validateHost(name, names.index(j), errors);
      if (!seen.insert(name).second) errors.push_back(FieldError::duplicate(names.index(j), name));
    }
    validateRelayTarget(route.cluster, route.namespace_, route.port, route.idleTimeout, clusters,
                        item,
                        "a passthrough relays the client's own TLS: its cluster may not set tls "
                        "or meshIdentity",
                        errors);
  }
}

void validateListeners(const std::vector<ListenerConfig>& listeners, const AdminConfig& admin,
                       const std::vector<ClusterConfig>& clusterList, const FieldPath& path,
                       ErrorList& errors) {
  const ClusterIndex clusters(clusterList);
  if (listeners.empty()) {
    errors.push_back(FieldError::required(path, "at least one listener"));
    return;
  }
  std::set<std::string> names;
  std::vector<BoundSocket> bound = {{"admin", admin.address, admin.port}};
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    const ListenerConfig& listener = listeners[i];
    const FieldPath item = path.index(i);
    const FieldPath name = item.child("name");
    if (api::validateRequired(listener.name, name, errors)) {
      api::validateDnsLabel(listener.name, name, errors);
      if (!names.insert(listener.name).second) {
        errors.push_back(FieldError::duplicate(name, listener.name));
      }
    }
    validateAddress(listener.address, item.child("address"), errors);
    const BoundSocket socket{item.str(), listener.address, listener.port};
    validateSocketConflicts(socket, bound, item.child("port"), errors);
    bound.push_back(socket);
    if (listener.tls) validateListenerTls(*listener.tls, item.child("tls"), errors);
    if (listener.tcp) validateTcpProxy(listener, clusters, item.child("tcp"), errors);
    if (!listener.tlsPassthrough.empty())
      validateTlsPassthrough(listener, clusters, item.child("tlsPassthrough"), errors);
  }
}

// Route features the proxy does not implement: refusing them beats serving a route that
// silently does something else. A route's own certificate Secret is not read by the proxy:
// listener certificates come from `listeners[].tls`.
void refuseUnsupportedFeatures(const api::ApiRoute& route, const FieldPath& path,
                               ErrorList& errors) {
  const FieldPath spec = path.child("spec");
  if (route.spec.tls && route.spec.tls->secretName) {
    errors.push_back(FieldError::forbidden(spec.child("tls").child("secretName"),
                                           std::string(kNotSupportedYet)));
  }
}

// A rate limit keyed by the API key's name or a JWT claim needs the rule's auth to check that
// credential: otherwise every request would fall into the one bucket for "no value".
void validateRateLimitKeys(const api::ApiRoute& route, const FieldPath& path, ErrorList& errors) {
  const FieldPath rules = path.child("spec").child("rules");
  for (std::size_t r = 0; r < route.spec.rules.size(); ++r) {
    const api::RouteRule& rule = route.spec.rules[r];
    if (!rule.rateLimit || !rule.rateLimit->key || !rule.rateLimit->key->type) continue;
    const std::string& type = *rule.rateLimit->key->type;
    std::optional<api::Auth> auth = rule.auth ? rule.auth : route.spec.auth;
    if (auth && auth->disabled.value_or(false)) auth.reset();
    const FieldPath field = rules.index(r).child("rateLimit").child("key").child("type");
    if (type == "ApiKey" && !(auth && auth->apiKey)) {
      errors.push_back(FieldError::invalid(field, type, "the rule's auth checks no API key"));
    } else if (type == "JwtClaim" && !(auth && auth->jwt)) {
      errors.push_back(FieldError::invalid(field, type, "the rule's auth verifies no JWT"));
    }
  }
}

void validateBackendRefs(const api::ApiRoute& route, const FieldPath& path,
                         const ClusterIndex& clusters, ErrorList& errors) {
  const FieldPath rules = path.child("spec").child("rules");
  for (std::size_t r = 0; r < route.spec.rules.size(); ++r) {
    const auto& backends = route.spec.rules[r].backends;
    for (std::size_t b = 0; b < backends.size(); ++b) {
      const api::Backend& backend = backends[b];
      const FieldPath item = rules.index(r).child("backends").index(b);
      if (backend.service.empty()) continue;  // Required, reported by validateApiRoute
      const ClusterConfig* cluster = clusters.find(route.metadata.namespace_, backend.service);
      if (cluster == nullptr) {
        errors.push_back(FieldError::notFound(item.child("service"), backend.service,
                                              "no cluster of that name"));
        continue;
      }
      if (!backend.subset) continue;
      bool found = false;
      for (const ClusterSubset& subset : cluster->subsets) {
        found = found || subset.name == *backend.subset;
      }
      if (!found) {
        errors.push_back(FieldError::notFound(
            item.child("subset"), *backend.subset,
            "no subset of that name in cluster " + api::quote(backend.service)));
      }
    }
  }
}

void validateRoutes(const std::vector<api::ApiRoute>& routes,
                    const std::vector<ClusterConfig>& clusterList, const FieldPath& path,
                    ErrorList& errors, const std::vector<api::ApiRoute>* validatedBefore) {
  const ClusterIndex clusters(clusterList);
  if (validatedBefore != nullptr && *validatedBefore == routes) {
    // The same routes passed before: only what they point at may have changed.
    for (std::size_t i = 0; i < routes.size(); ++i)
      validateBackendRefs(routes[i], path.index(i), clusters, errors);
    return;
  }
  const std::size_t before = errors.size();
  std::set<std::pair<std::string, std::string>> names;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const api::ApiRoute& route = routes[i];
    const FieldPath item = path.index(i);
    for (FieldError e : api::validateApiRoute(route)) {
      e.field = e.field.empty() ? item.str() : item.str() + "." + e.field;
      errors.push_back(std::move(e));
    }
    if (!route.metadata.name.empty() &&
        !names.emplace(route.metadata.namespace_, route.metadata.name).second) {
      errors.push_back(
          FieldError::duplicate(item.child("metadata").child("name"), route.metadata.name));
    }
    refuseUnsupportedFeatures(route, item, errors);
    validateRateLimitKeys(route, item, errors);
    validateBackendRefs(route, item, clusters, errors);
  }
  // The validator already compiles every regex with the router's options; this catches any
  // disagreement between the two before the proxy would fail to build its table.
  if (errors.size() == before) {
    const auto table = RouteTable::build(routes);
    if (!table) errors.push_back(FieldError::invalid(path, "array", table.error()));
  }
}

void validateEndpoints(const std::vector<ClusterEndpoint>& endpoints, const FieldPath& path,
                       ConfigSource source, ErrorList& errors) {
  if (endpoints.empty()) {
    if (source == ConfigSource::kFile)
      errors.push_back(FieldError::required(path, "at least one endpoint"));
    return;
  }
  api::validateMaxItems(endpoints.size(), api::kMaxEndpoints, path, errors);
  std::set<std::pair<std::string, std::optional<uint16_t>>> seen;
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const ClusterEndpoint& ep = endpoints[i];
    const FieldPath item = path.index(i);
    validateAddress(ep.address, item.child("address"), errors);
    if (ep.port) api::validatePort(*ep.port, item.child("port"), errors);
    api::validateRange(ep.weight, 1, 1000, item.child("weight"), errors);
    api::validateLabelMap(ep.labels, item.child("labels"), errors);
    if (!ep.address.empty() && !seen.emplace(ep.address, ep.port).second) {
      const std::string where = ep.port ? hostPort(ep.address, *ep.port) : ep.address;
      errors.push_back(FieldError::duplicate(item, where));
    }
  }
}

void validateUpstreamTls(const UpstreamTls& tls, const FieldPath& path, ErrorList& errors) {
  const FieldPath serverName = path.child("serverName");
  if (api::validateRequired(tls.serverName, serverName, errors) &&
      !api::isDnsSubdomain(tls.serverName) && !api::isIpAddress(tls.serverName)) {
    errors.push_back(
        FieldError::invalid(serverName, tls.serverName, "must be a DNS name or an IP address"));
  }
  if (tls.caFile) {
    const FieldPath caFile = path.child("caFile");
    if (api::validateRequired(*tls.caFile, caFile, errors)) {
      const std::string problem = checkCertificateFile(*tls.caFile);
      if (!problem.empty()) errors.push_back(FieldError::invalid(caFile, *tls.caFile, problem));
    }
  }
}

void validatePool(const PoolConfig& pool, const FieldPath& path, ErrorList& errors) {
  api::validateRange(pool.maxIdlePerEndpoint, 0, 10000, path.child("maxIdlePerEndpoint"), errors);
  validatePositiveDuration(pool.idleTimeout, path.child("idleTimeout"), errors);
}

void validateCluster(const ClusterConfig& cluster, const FieldPath& path, ConfigSource source,
                     ErrorList& errors) {
  validateEndpoints(cluster.endpoints, path.child("endpoints"), source, errors);
  std::vector<api::Subset> subsets;
  for (const ClusterSubset& s : cluster.subsets)
    subsets.push_back({s.name, s.labels});
  api::validateSubsets(subsets, path.child("subsets"), errors);
  api::validateLoadBalancer(cluster.loadBalancer, path.child("loadBalancer"), errors);
  if (cluster.healthCheck) {
    api::validateHealthCheck(*cluster.healthCheck, path.child("healthCheck"), errors);
  }
  if (cluster.outlierDetection) {
    api::validateOutlierDetection(*cluster.outlierDetection, path.child("outlierDetection"),
                                  errors);
  }
  api::validateCircuitBreaker(cluster.circuitBreaker, path.child("circuitBreaker"), errors);
  if (cluster.timeout) validateNonNegativeDuration(*cluster.timeout, path.child("timeout"), errors);
  if (cluster.retries) api::validateRetries(*cluster.retries, path.child("retries"), errors);
  validatePositiveDuration(cluster.connectTimeout, path.child("connectTimeout"), errors);
  if (cluster.tls) validateUpstreamTls(*cluster.tls, path.child("tls"), errors);
  if (cluster.meshIdentity) {
    if (!api::parseSpiffeId(*cluster.meshIdentity))
      errors.push_back(FieldError::invalid(path.child("meshIdentity"), *cluster.meshIdentity,
                                           "must be spiffe://<trust-domain>/ns/<ns>/sa/<sa>"));
    if (cluster.tls)
      errors.push_back(
          FieldError::forbidden(path.child("meshIdentity"),
                                "a mesh cluster's TLS is mTLS with the workload identity; "
                                "it may not also set tls"));
  }
  for (std::size_t i = 0; i < cluster.http2Ports.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (cluster.http2Ports[j] == cluster.http2Ports[i])
        errors.push_back(
            FieldError::duplicate(path.child("http2Ports").index(i), cluster.http2Ports[i]));
  validatePool(cluster.pool, path.child("pool"), errors);
}

void validateClusters(const std::vector<ClusterConfig>& clusters, const FieldPath& path,
                      ConfigSource source, ErrorList& errors) {
  std::set<std::pair<std::string, std::string>> names;
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const ClusterConfig& cluster = clusters[i];
    const FieldPath item = path.index(i);
    const FieldPath name = item.child("name");
    if (!cluster.namespace_.empty()) {
      api::validateDnsLabel(cluster.namespace_, item.child("namespace"), errors);
    }
    // Backends name clusters in `service`, which ApiRoute requires to be a DNS label.
    if (api::validateRequired(cluster.name, name, errors)) {
      api::validateDnsLabel(cluster.name, name, errors);
      if (!names.emplace(cluster.namespace_, cluster.name).second) {
        errors.push_back(FieldError::duplicate(name, cluster.name));
      }
    }
    validateCluster(cluster, item, source, errors);
  }
}

void validateTimeouts(const TimeoutsConfig& t, const FieldPath& path, ErrorList& errors) {
  validatePositiveDuration(t.headerRead, path.child("headerRead"), errors);
  validatePositiveDuration(t.idle, path.child("idle"), errors);
  validateNonNegativeDuration(t.request, path.child("request"), errors);
  validateNonNegativeDuration(t.drain, path.child("drain"), errors);
}

void validateLimits(const LimitsConfig& l, const FieldPath& path, ErrorList& errors) {
  api::validateRange(l.maxRequestLineBytes, kMinRequestLineBytes, kMaxRequestLineBytes,
                     path.child("maxRequestLineBytes"), errors);
  const FieldPath headerBytes = path.child("maxHeaderBytes");
  const std::size_t before = errors.size();
  api::validateRange(l.maxHeaderBytes, kMinHeaderBytes, kMaxHeaderBytes, headerBytes, errors);
  // The request line is part of the head that maxHeaderBytes bounds.
  if (errors.size() == before && l.maxHeaderBytes < l.maxRequestLineBytes) {
    errors.push_back(FieldError::invalid(headerBytes, l.maxHeaderBytes,
                                         "must not be smaller than maxRequestLineBytes (" +
                                             std::to_string(l.maxRequestLineBytes) + ")"));
  }
  api::validateRange(l.maxHeaders, 1, kMaxHeaders, path.child("maxHeaders"), errors);
  if (l.maxBodyBytes < 1 || l.maxBodyBytes > static_cast<std::uint64_t>(kMaxBodyBytes)) {
    errors.push_back(FieldError::invalid(
        path.child("maxBodyBytes"), l.maxBodyBytes,
        "must be between 1 and " + std::to_string(kMaxBodyBytes) + ", inclusive"));
  }
  api::validateRange(l.maxRetryBufferBytes, 0, kMaxRetryBufferBytes,
                     path.child("maxRetryBufferBytes"), errors);
  api::validateRange(l.maxConnections, 1, kMaxConnections, path.child("maxConnections"), errors);
  api::validateRange(l.maxRateLimitKeys, 1, api::kMaxRateLimitKeys, path.child("maxRateLimitKeys"),
                     errors);
  if (l.maxBufferedBodyBytes < 1 ||
      l.maxBufferedBodyBytes > static_cast<std::uint64_t>(kMaxBufferedBodyBytes)) {
    errors.push_back(FieldError::invalid(
        path.child("maxBufferedBodyBytes"), l.maxBufferedBodyBytes,
        "must be between 1 and " + std::to_string(kMaxBufferedBodyBytes) + ", inclusive"));
  } else if (l.maxBufferedBodyBytes < l.maxRetryBufferBytes) {
    // Otherwise a body of maxRetryBufferBytes would never fit and its requests always get 503.
    errors.push_back(FieldError::invalid(path.child("maxBufferedBodyBytes"), l.maxBufferedBodyBytes,
                                         "must not be smaller than maxRetryBufferBytes (" +
                                             std::to_string(l.maxRetryBufferBytes) + ")"));
  }
}

void validateAuthSettings(const AuthSettings& a, const FieldPath& path, ErrorList& errors) {
  validateNonNegativeDuration(a.clockSkew, path.child("clockSkew"), errors);
  api::validateRange(a.maxTokenBytes, api::kMinTokenBytes, api::kMaxTokenBytes,
                     path.child("maxTokenBytes"), errors);
  validatePositiveDuration(a.jwksRefreshInterval, path.child("jwksRefreshInterval"), errors);
  validatePositiveDuration(a.jwksFetchTimeout, path.child("jwksFetchTimeout"), errors);
  api::validateRange(a.verifiedTokenCacheSize, 0, api::kMaxVerifiedTokenCache,
                     path.child("verifiedTokenCacheSize"), errors);
}

void validateAccessLog(const AccessLogConfig& log, const FieldPath& path, ErrorList& errors) {
  if (!log.enabled) return;
  const FieldPath file = path.child("path");
  if (api::validateRequired(log.path, file, errors) && log.path.front() != '/') {
    errors.push_back(FieldError::invalid(file, log.path, "must be an absolute path"));
  }
}

// The sidecar's `mesh` section: identities that parse, ports in range, an allowed service's
// cluster present, one entry per inbound port.
void validateMesh(const api::MeshConfig& mesh, const std::vector<ClusterConfig>& clusters,
                  const FieldPath& path, ErrorList& errors) {
  if (!api::parseSpiffeId(mesh.identity))
    errors.push_back(FieldError::invalid(path.child("identity"), mesh.identity,
                                         "must be spiffe://<trust-domain>/ns/<ns>/sa/<sa>"));
  api::validateRequired(mesh.trustDomain, path.child("trustDomain"), errors);
  const ClusterIndex index(clusters);
  for (std::size_t i = 0; i < mesh.outbound.size(); ++i) {
    const api::MeshOutboundService& service = mesh.outbound[i];
    const FieldPath item = path.child("outbound").index(i);
    api::validateRequired(service.name, item.child("name"), errors);
    for (std::size_t j = 0; j < service.addresses.size(); ++j)
      api::validateIpAddress(service.addresses[j], item.child("addresses").index(j), errors);
    for (std::size_t j = 0; j < service.ports.size(); ++j)
      if (service.ports[j] == 0)
        errors.push_back(FieldError::invalid(item.child("ports").index(j), 0,
                                             "must be between 1 and 65535, inclusive"));
    // A port is HTTP or TCP, not both.
    const std::set<uint16_t> httpPorts(service.ports.begin(), service.ports.end());
    for (std::size_t j = 0; j < service.tcpPorts.size(); ++j) {
      const FieldPath port = item.child("tcpPorts").index(j);
      if (service.tcpPorts[j] == 0)
        errors.push_back(FieldError::invalid(port, 0, "must be between 1 and 65535, inclusive"));
      else if (httpPorts.contains(service.tcpPorts[j]))
        errors.push_back(FieldError::duplicate(port, service.tcpPorts[j]));
    }
    if (!service.identity.empty() && !api::parseSpiffeId(service.identity))
      errors.push_back(FieldError::invalid(item.child("identity"), service.identity,
                                           "must be spiffe://<trust-domain>/ns/<ns>/sa/<sa>"));
    if (service.allowed && index.find(service.namespace_, service.name) == nullptr)
      errors.push_back(
          FieldError::notFound(item.child("name"), service.name,
                               "no cluster of that name in namespace " + service.namespace_));
  }
  std::set<uint16_t> ports;
  for (std::size_t i = 0; i < mesh.inbound.size(); ++i) {
    const api::MeshInboundPort& inbound = mesh.inbound[i];
    const FieldPath item = path.child("inbound").index(i);
    if (inbound.port == 0)
      errors.push_back(
          FieldError::invalid(item.child("port"), 0, "must be between 1 and 65535, inclusive"));
    else if (!ports.insert(inbound.port).second)
      errors.push_back(FieldError::duplicate(item.child("port"), inbound.port));
    if (inbound.mtlsMode != api::mtls_mode::kStrict &&
        inbound.mtlsMode != api::mtls_mode::kPermissive &&
        inbound.mtlsMode != api::mtls_mode::kDisabled)
      errors.push_back(FieldError::unsupported(item.child("mtlsMode"), inbound.mtlsMode,
                                               {"Strict", "Permissive", "Disabled"}));
    if (inbound.tcp && inbound.http2)
      errors.push_back(FieldError::invalid(item.child("tcp"), true,
                                           "a port is TCP or HTTP/2, not both (http2 is set)"));
  }
}

}  // namespace

ErrorList validateProxyConfig(const ProxyConfig& config,
                              const std::vector<api::ApiRoute>* validatedRoutes,
                              ConfigSource source) {
  ErrorList errors;
  try {
    api::validateMaxLength(config.version, kMaxVersionLength, FieldPath("version"), errors);
    validateAdmin(config.admin, FieldPath("admin"), errors);
    // A sidecar adds its own listeners to a mesh config (mesh_expansion.h).
    if (!config.mesh || !config.listeners.empty())
      validateListeners(config.listeners, config.admin, config.clusters, FieldPath("listeners"),
                        errors);
    if (config.mesh) validateMesh(*config.mesh, config.clusters, FieldPath("mesh"), errors);
    validateRoutes(config.routes, config.clusters, FieldPath("routes"), errors, validatedRoutes);
    validateClusters(config.clusters, FieldPath("clusters"), source, errors);
    validateSecrets(config.secrets, FieldPath("secrets"), errors);
    if (source == ConfigSource::kFile) {
      for (std::size_t i = 0; i < config.routes.size(); ++i)
        validateRouteSecretRefs(config, config.routes[i], FieldPath("routes").index(i), errors);
    }
    validateAuthSettings(config.auth, FieldPath("auth"), errors);
    validateTimeouts(config.timeouts, FieldPath("timeouts"), errors);
    validateLimits(config.limits, FieldPath("limits"), errors);
    validateAccessLog(config.accessLog, FieldPath("accessLog"), errors);
  } catch (const std::exception& e) {
    errors.push_back(FieldError::internal(FieldPath(), e.what()));
  }
  return errors;
}

}  // namespace meshgate::dp
