// ProxyConfig: one complete configuration snapshot of meshgate-proxy — listeners, routes
// (ApiRoute objects whose backends name clusters), clusters (endpoint sets with their traffic
// policy), secrets the routes' authentication names, timeouts, limits, access log and admin
// listener. Standalone mode reads it from a file
// (docs/PROXY_CONFIG.md); the operator builds it from the cluster and streams it to gateways
// (docs/CONFIG_STREAM.md). It lives in api/ so that the operator and the proxy share it without
// the operator depending on dataplane/. Plain data: decoded by proxy_config_codec.h, checked by
// the proxy's dataplane/config/proxy_config_validation.h, then compiled into its runtime
// snapshot. Durations are already parsed here.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/api_route.h"
#include "api/mesh_service.h"

namespace meshgate::api {

using Millis = std::chrono::milliseconds;

// Inclusive ranges of `limits` (the decoder quotes them for values the fields cannot hold; the
// validator checks them).
inline constexpr std::int64_t kMinRequestLineBytes = 64;
inline constexpr std::int64_t kMaxRequestLineBytes = 1 << 20;
inline constexpr std::int64_t kMinHeaderBytes = 1024;
inline constexpr std::int64_t kMaxHeaderBytes = 16 << 20;
inline constexpr std::int64_t kMaxHeaders = 10000;
inline constexpr std::int64_t kMaxBodyBytes = std::int64_t{1} << 40;
inline constexpr std::int64_t kMaxRetryBufferBytes = 64 << 20;
inline constexpr std::int64_t kMaxConnections = 1'000'000;
inline constexpr std::int64_t kMaxBufferedBodyBytes = std::int64_t{1} << 40;
inline constexpr std::int64_t kMaxRateLimitKeys = 10'000'000;
inline constexpr std::int64_t kMinTokenBytes = 256;
inline constexpr std::int64_t kMaxTokenBytes = 1 << 20;
inline constexpr std::int64_t kMaxVerifiedTokenCache = 1'000'000;

// A listener certificate: either files (a config file on disk) or the PEM text itself (what the
// operator streams from a Secret). Exactly one of the two forms is set.
struct TlsCertificate {
  std::string certFile{};        // PEM chain, leaf first
  std::string keyFile{};         // PEM private key
  std::string certificatePem{};  // PEM chain, leaf first
  std::string privateKeyPem{};   // secret: never logged, redacted in /config_dump
};

// A listener terminates TLS when `tls` is set (SNI picks among `certificates` by SAN; the first
// is the default), plain HTTP otherwise.
struct ListenerTls {
  std::vector<TlsCertificate> certificates;
  std::string minVersion = "TLSv1.2";  // "TLSv1.2" or "TLSv1.3"
};

// What a listener serves. Only the sidecar sets the mesh roles, on the listeners it adds itself
// (never on the wire): kMeshOutbound takes the application's captured connections and routes them
// by original destination (or Host); kMeshInbound takes the connections captured on their way to
// the application, terminates mTLS and authorizes them.
enum class ListenerRole { kGateway, kMeshOutbound, kMeshInbound };

// A TCP listener's one target: every connection it accepts is relayed as raw bytes to an endpoint
// of `cluster` at `port`, which resolves as a route backend's does (the cluster's namespace, then a
// namespace-less one; targetPorts and endpoint ports apply). Envoy's tcp_proxy idle_timeout
// default (1h) is the idle timeout's.
struct TcpProxyConfig {
  std::string cluster{};
  std::string namespace_{};  // the namespace `cluster` is looked up in; empty: "default"
  uint16_t port = 0;         // the backend (service) port
  Millis idleTimeout{3'600'000};
};

// TLS passthrough: a TLS connection whose ClientHello names (SNI) one of `serverNames` is relayed
// as raw bytes, never decrypted, to an endpoint of `cluster` at `port` (resolved as a TCP
// listener's target is), as Envoy's tls_inspector with a tcp_proxy per server_names, or Contour's
// `tls.passthrough`. A name is exact or "*.suffix" (one or more labels below suffix), compared
// case-insensitively; the exact name wins, then the longest suffix.
struct TlsPassthroughRoute {
  std::vector<std::string> serverNames;
  std::string cluster{};
  std::string namespace_{};  // the namespace `cluster` is looked up in; empty: "default"
  uint16_t port = 0;
  Millis idleTimeout{3'600'000};
};

struct ListenerConfig {
  std::string name;
  std::string address;  // an IPv4 or IPv6 literal
  uint16_t port = 0;
  std::optional<ListenerTls> tls;
  // Set: the listener proxies TCP to one cluster and serves no HTTP route (gateway listeners only).
  std::optional<TcpProxyConfig> tcp{};
  // Non-empty: the listener reads each connection's ClientHello first, and relays those whose
  // server name a route names (gateway listeners only, not with `tcp`). The others are terminated
  // with `tls` and served as HTTPS when it is set, closed otherwise.
  std::vector<TlsPassthroughRoute> tlsPassthrough{};
  ListenerRole role = ListenerRole::kGateway;  // not encoded: see ListenerRole
};

struct ClusterEndpoint {
  std::string address;                        // IP literal
  std::optional<uint16_t> port;               // absent: the port the route's backend names
  uint32_t weight = 1;                        // 1..1000
  std::map<std::string, std::string> labels;  // what subsets select on
};

struct ClusterSubset {
  std::string name;
  std::map<std::string, std::string> labels;  // every label must match
};

// Upstream TLS: the proxy verifies the server's certificate against `caFile` (system roots when
// absent) and `serverName` against its SAN (DNS or IP), strictly.
struct UpstreamTls {
  std::string serverName;
  std::optional<std::string> caFile;
};

struct PoolConfig {
  uint32_t maxIdlePerEndpoint = 64;  // per worker
  Millis idleTimeout{60'000};
};

struct ClusterConfig {
  std::string name;
  // Empty: the cluster is seen by routes of every namespace (a config file). Set (the operator
  // sets it to the MeshService's namespace): only routes of that namespace resolve it, before a
  // namespace-less cluster of the same name.
  std::string namespace_;
  // Service port → endpoint port (a MeshService's port → targetPort): endpoints without a port of
  // their own listen on targetPorts[backend port] when present, else on the backend's port.
  std::map<uint16_t, uint16_t> targetPorts;
  std::vector<ClusterEndpoint> endpoints;
  std::vector<ClusterSubset> subsets;
  api::LoadBalancer loadBalancer;  // policy defaults to RoundRobin
  std::optional<api::HealthCheck> healthCheck;
  std::optional<api::OutlierDetection> outlierDetection;
  api::CircuitBreaker circuitBreaker;  // absent limits: api::kDefault*
  std::optional<Millis> timeout;       // request timeout (absent: none)
  std::optional<api::Retries> retries;
  Millis connectTimeout{2'000};
  std::optional<UpstreamTls> tls;
  // Set: every endpoint is a mesh workload that must present this SPIFFE ID (its one URI SAN);
  // the proxy originates mTLS with its own workload certificate (a gateway: its --cert-dir
  // identity) and never calls it in plaintext. The operator sets it on a gateway's cluster for a
  // MeshService whose mtls.mode is Strict. Exclusive with `tls`.
  std::optional<std::string> meshIdentity;
  // Service ports (as routes name them) whose endpoints speak HTTP/2: cleartext with prior
  // knowledge, or ALPN h2 over TLS. Other ports get HTTP/1.1. (Contour's upstream-protocol.h2c
  // annotation takes the same list.)
  std::vector<uint16_t> http2Ports;
  PoolConfig pool;
};

// Downstream timeouts. A zero request timeout means none.
struct TimeoutsConfig {
  Millis headerRead{10'000};  // from the first byte of a request head to its end (slowloris)
  Millis idle{60'000};        // a keep-alive client connection with no request in flight
  Millis request{0};          // default for routes and clusters without their own
  Millis drain{15'000};       // SIGTERM: hard deadline for in-flight requests
};

struct LimitsConfig {
  uint32_t maxRequestLineBytes = 8 * 1024;   // 414 beyond
  uint32_t maxHeaderBytes = 64 * 1024;       // whole head; 431 beyond
  uint32_t maxHeaders = 100;                 // 431 beyond
  uint64_t maxBodyBytes = 10 * 1024 * 1024;  // 413 beyond
  uint32_t maxRetryBufferBytes = 64 * 1024;  // larger bodies are streamed and never retried
  // Open downstream connections, whole proxy (split evenly over the workers); a connection beyond
  // it is answered 503 (plain HTTP) or closed (TLS) at once, and counted.
  uint32_t maxConnections = 20000;
  // Request bodies held in memory at once so their requests can be replayed (each at most
  // maxRetryBufferBytes), whole proxy (split evenly over the workers); a request whose body does
  // not fit is answered 503 before its body is read, and counted.
  uint64_t maxBufferedBodyBytes = 128 * 1024 * 1024;
  // Rate-limit keys (client IPs, header values, API-key names, claims) held per rule, whole proxy;
  // beyond it the least recently used key's bucket is dropped (the key starts afresh, full).
  uint32_t maxRateLimitKeys = 100000;
};

// How the proxy checks client credentials (routes' `auth`).
struct AuthSettings {
  Millis clockSkew{60'000};                // tolerance on a JWT's exp and nbf
  uint32_t maxTokenBytes = 8192;           // a longer JWT is refused unread (401)
  Millis jwksRefreshInterval{300'000};     // JWKS fetched from a `uri`: refetched this often
  Millis jwksFetchTimeout{5'000};          // a whole JWKS fetch: connect, TLS, request, response
  uint32_t verifiedTokenCacheSize = 4096;  // verified JWTs remembered per worker (0: none)
};

// What routes' `secretRef`s name (a Kubernetes Secret's keys): the operator streams the Secrets
// of the routes' namespaces; a config file lists them, each key inline or read from a file.
struct SecretConfig {
  std::string name;
  // Empty: seen by routes of every namespace (a config file); set: only by that namespace's.
  std::string namespace_;
  std::map<std::string, std::string> data;   // key → value; secret: redacted in /config_dump
  std::map<std::string, std::string> files;  // key → path (file mode), read into data on load
};

struct AccessLogConfig {
  bool enabled = false;
  std::string path = "/dev/stdout";
};

struct AdminConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 15000;
};

// Sidecar mode (docs/MESH.md): what the operator streams to the sidecars of one workload
// identity, and nothing of other workloads' inbound policy. The proxy adds its own two listeners
// (outbound 127.0.0.1:15001, inbound 0.0.0.0:15006) and compiles these into routes of its own.

// A MeshService this workload may call: its cluster is the ClusterConfig of the same name and
// namespace in `clusters`.
struct MeshOutboundService {
  std::string name;
  std::string namespace_;
  // Its Service's cluster IPs: the addresses a captured connection was sent to.
  std::vector<std::string> addresses;
  std::vector<uint16_t> ports;  // Service ports (HTTP and HTTP2 ones)
  // Service ports of protocol TCP: a captured connection to one is relayed as bytes to an
  // endpoint (over mTLS when `identity` is set), never parsed.
  std::vector<uint16_t> tcpPorts{};
  // The names a client uses in Host, without port: "<name>.<ns>.svc.cluster.local",
  // "<name>.<ns>.svc", "<name>.<ns>" and, from the same namespace, "<name>".
  std::vector<std::string> hosts;
  // The SPIFFE ID its endpoints must present; empty: mtls.mode Disabled, the call goes out in
  // plaintext.
  std::string identity;
  // False: the MeshService's authorization does not admit this workload. The sidecar answers 403
  // itself and the config carries no cluster (no endpoints) for it.
  bool allowed = true;
};

// One port of this workload that a MeshService selecting it declares (its targetPort).
struct MeshInboundPort {
  uint16_t port = 0;
  std::string mtlsMode = "Strict";  // api::mtls_mode: Strict, Permissive or Disabled
  // Absent: any mesh identity may call. Present: only identities a rule matches (empty: nobody).
  std::optional<std::vector<api::AuthorizationRule>> allow;
  std::string service;  // "<ns>/<name>" of the MeshService, for logs and 403 bodies
  bool http2 = false;   // the port's protocol is HTTP2: the application is called over h2c
  // The port's protocol is TCP: a connection is authorized once, by the certificate of its mTLS
  // handshake, then relayed as bytes to the application. Exclusive with http2.
  bool tcp = false;
};

struct MeshConfig {
  std::string identity;     // this workload's SPIFFE ID
  std::string trustDomain;  // "cluster.local"
  std::vector<MeshOutboundService> outbound;
  std::vector<MeshInboundPort> inbound;
};

struct ProxyConfig {
  std::string version;  // shown by /stats and /config_dump; default: a hash of the input
  std::vector<ListenerConfig> listeners;
  std::vector<api::ApiRoute> routes;  // backends[].service names a cluster
  std::vector<ClusterConfig> clusters;
  std::vector<SecretConfig> secrets;
  AuthSettings auth;
  TimeoutsConfig timeouts;
  LimitsConfig limits;
  AccessLogConfig accessLog;
  AdminConfig admin;
  std::optional<MeshConfig> mesh;  // sidecar mode only
};

}  // namespace meshgate::api
