// Tests of decodeProxyConfig/encodeProxyConfig: every section decodes, defaults fill absent
// fields, wrong types and unknown fields are errors with paths, and encoding round-trips.
#include "api/proxy_config_codec.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/yaml_loader.h"

namespace meshgate::api {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

json yaml(const std::string& text) {
  const auto loaded = api::loadYaml(text, "test.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.error;
  return loaded.documents.empty() ? json() : loaded.documents.front();
}

std::vector<std::string> decodeErrors(const json& j) {
  const auto result = decodeProxyConfig(j);
  std::vector<std::string> out;
  for (const auto& e : result.errors)
    out.push_back(e.toString());
  return out;
}

ProxyConfig decodeOk(const json& j) {
  const auto result = decodeProxyConfig(j);
  EXPECT_TRUE(result.ok()) << api::formatErrors(result.errors);
  return result.object.value_or(ProxyConfig{});
}

const char* const kFullConfig = R"(
version: "2026-11-26.1"
admin: {address: "::1", port: 0}
listeners:
- name: public
  address: 127.0.0.1
  port: 8443
  tls:
    minVersion: TLSv1.3
    certificates:
    - {certFile: /etc/tls/a.crt, keyFile: /etc/tls/a.key}
    - {certFile: /etc/tls/b.crt, keyFile: /etc/tls/b.key}
routes:
- metadata: {name: shop, namespace: web, creationTimestamp: "2026-01-02T03:04:05Z"}
  spec:
    hosts: [shop.example.com]
    rules:
    - matches: [{path: {type: PathPrefix, value: /}}]
      backends: [{service: shop, port: 8080, weight: 1, subset: v2}]
clusters:
- name: shop
  endpoints:
  - {address: 127.0.0.2, port: 9000, weight: 7, labels: {version: v2}}
  - {address: 127.0.0.3}
  subsets: [{name: v2, labels: {version: v2}}]
  loadBalancer: {policy: RingHash, hash: {header: x-user}}
  healthCheck: {path: /health, interval: 5s, timeout: 1s, healthyThreshold: 2, unhealthyThreshold: 3}
  outlierDetection: {consecutiveErrors: 4, interval: 9s, baseEjectionTime: 20s, maxEjectionPercent: 30}
  circuitBreaker: {maxConnections: 10, maxPendingRequests: 11, maxRequests: 12, maxRetries: 2}
  timeout: 15s
  retries: {attempts: 2, perTryTimeout: 1s, retryOn: [5xx], backoff: {base: 10ms, max: 100ms}}
  connectTimeout: 1500ms
  tls: {serverName: backend.internal, caFile: /etc/tls/ca.crt}
  pool: {maxIdlePerEndpoint: 8, idleTimeout: 1m30s}
timeouts: {headerRead: 5s, idle: 2m, request: 30s, drain: 0s}
limits: {maxRequestLineBytes: 4096, maxHeaderBytes: 32768, maxHeaders: 50, maxBodyBytes: 1048576, maxRetryBufferBytes: 0, maxBufferedBodyBytes: 2097152}
accessLog: {enabled: true, path: /var/log/proxy.log}
)";

TEST(ProxyConfigCodecTest, DecodesTopLevelVersionAndAdmin) {
  const ProxyConfig c = decodeOk(yaml(kFullConfig));
  EXPECT_EQ(c.version, "2026-11-26.1");
  EXPECT_EQ(c.admin.address, "::1");
  EXPECT_EQ(c.admin.port, 0);
}

TEST(ProxyConfigCodecTest, DecodesListenersWithTls) {
  const ProxyConfig c = decodeOk(yaml(kFullConfig));
  ASSERT_EQ(c.listeners.size(), 1u);
  const ListenerConfig& l = c.listeners[0];
  EXPECT_EQ(l.name, "public");
  EXPECT_EQ(l.address, "127.0.0.1");
  EXPECT_EQ(l.port, 8443);
  ASSERT_TRUE(l.tls.has_value());
  EXPECT_EQ(l.tls->minVersion, "TLSv1.3");
  ASSERT_EQ(l.tls->certificates.size(), 2u);
  EXPECT_EQ(l.tls->certificates[1].certFile, "/etc/tls/b.crt");
  EXPECT_EQ(l.tls->certificates[1].keyFile, "/etc/tls/b.key");
}

TEST(ProxyConfigCodecTest, DecodesATcpListenerAndDefaultsItsIdleTimeout) {
  const ProxyConfig c = decodeOk(yaml(R"(
listeners:
- {name: db, address: 127.0.0.1, port: 5432, tcp: {cluster: pg, namespace: data, port: 5432, idleTimeout: 90s}}
- {name: mq, address: 127.0.0.1, port: 5672, tcp: {cluster: rabbit, port: 5672}}
- {name: web, address: 127.0.0.1, port: 8080}
)"));
  ASSERT_EQ(c.listeners.size(), 3u);
  ASSERT_TRUE(c.listeners[0].tcp.has_value());
  EXPECT_EQ(c.listeners[0].tcp->cluster, "pg");
  EXPECT_EQ(c.listeners[0].tcp->namespace_, "data");
  EXPECT_EQ(c.listeners[0].tcp->port, 5432);
  EXPECT_EQ(c.listeners[0].tcp->idleTimeout, 90s);
  ASSERT_TRUE(c.listeners[1].tcp.has_value());
  EXPECT_EQ(c.listeners[1].tcp->namespace_, "");
  EXPECT_EQ(c.listeners[1].tcp->idleTimeout, 1h);
  EXPECT_EQ(c.listeners[2].tcp, std::nullopt);
}

TEST(ProxyConfigCodecTest, TcpListenerWrongTypesAreErrorsWithPaths) {
  EXPECT_THAT(
      decodeErrors(yaml("listeners: [{name: a, tcp: {cluster: 5, port: 70000, idleTimeout: "
                        "soon}}]")),
      ElementsAre("listeners[0].tcp.cluster: Invalid value: 5: expected a string",
                  "listeners[0].tcp.port: Invalid value: 70000: must be between 1 and 65535, "
                  "inclusive",
                  ::testing::StartsWith("listeners[0].tcp.idleTimeout: Invalid value: \"soon\"")));
  EXPECT_THAT(decodeErrors(yaml("listeners: [{name: a, tcp: db}]")),
              ElementsAre("listeners[0].tcp: Invalid value: \"db\": expected an object"));
}

TEST(ProxyConfigCodecTest, TcpListenerRoundTripsAndOmitsAnEmptyNamespace) {
  ProxyConfig c;
  c.listeners.push_back(
      {.name = "db",
       .address = "127.0.0.1",
       .port = 5432,
       .tls = {},
       .tcp = TcpProxyConfig{.cluster = "pg", .namespace_ = "", .port = 5432, .idleTimeout = 2s}});
  c.listeners.push_back(
      {.name = "mq",
       .address = "127.0.0.1",
       .port = 5672,
       .tls = {},
       .tcp = TcpProxyConfig{
           .cluster = "rabbit", .namespace_ = "data", .port = 5672, .idleTimeout = 1h}});
  const json encoded = encodeProxyConfig(c);
  EXPECT_EQ(encoded["listeners"][0]["tcp"],
            json::parse(R"({"cluster":"pg","port":5432,"idleTimeout":"2s"})"));
  EXPECT_EQ(
      encoded["listeners"][1]["tcp"],
      json::parse(R"({"cluster":"rabbit","namespace":"data","port":5672,"idleTimeout":"1h"})"));
  const ProxyConfig decoded = decodeOk(encoded);
  ASSERT_TRUE(decoded.listeners[1].tcp.has_value());
  EXPECT_EQ(decoded.listeners[1].tcp->cluster, "rabbit");
  EXPECT_EQ(decoded.listeners[1].tcp->namespace_, "data");
  EXPECT_EQ(decoded.listeners[1].tcp->port, 5672);
  EXPECT_EQ(decoded.listeners[1].tcp->idleTimeout, 1h);
  EXPECT_EQ(encodeProxyConfig(decoded), encoded);
}

TEST(ProxyConfigCodecTest, DecodesRoutesWithTheApiRouteDecoder) {
  const ProxyConfig c = decodeOk(yaml(kFullConfig));
  ASSERT_EQ(c.routes.size(), 1u);
  const api::ApiRoute& r = c.routes[0];
  EXPECT_EQ(r.metadata.name, "shop");
  EXPECT_EQ(r.metadata.namespace_, "web");
  EXPECT_EQ(r.metadata.creationTimestamp, "2026-01-02T03:04:05Z");
  EXPECT_THAT(r.spec.hosts, ElementsAre("shop.example.com"));
  ASSERT_EQ(r.spec.rules.size(), 1u);
  ASSERT_EQ(r.spec.rules[0].backends.size(), 1u);
  EXPECT_EQ(r.spec.rules[0].backends[0].service, "shop");
  EXPECT_EQ(r.spec.rules[0].backends[0].subset, "v2");
}

TEST(ProxyConfigCodecTest, DecodesClusters) {
  const ProxyConfig c = decodeOk(yaml(kFullConfig));
  ASSERT_EQ(c.clusters.size(), 1u);
  const ClusterConfig& cl = c.clusters[0];
  EXPECT_EQ(cl.name, "shop");
  ASSERT_EQ(cl.endpoints.size(), 2u);
  EXPECT_EQ(cl.endpoints[0].address, "127.0.0.2");
  EXPECT_EQ(cl.endpoints[0].port, 9000);
  EXPECT_EQ(cl.endpoints[0].weight, 7u);
  EXPECT_EQ(cl.endpoints[0].labels.at("version"), "v2");
  EXPECT_EQ(cl.endpoints[1].port, std::nullopt);
  EXPECT_EQ(cl.endpoints[1].weight, 1u);
  ASSERT_EQ(cl.subsets.size(), 1u);
  EXPECT_EQ(cl.subsets[0].name, "v2");
  EXPECT_EQ(cl.loadBalancer.policy, "RingHash");
  EXPECT_EQ(cl.loadBalancer.hash->header, "x-user");
  EXPECT_EQ(cl.healthCheck->path, "/health");
  EXPECT_EQ(cl.healthCheck->interval, "5s");
  EXPECT_EQ(cl.outlierDetection->maxEjectionPercent, 30);
  EXPECT_EQ(cl.circuitBreaker.maxRequests, 12);
  EXPECT_EQ(cl.timeout, 15s);
  EXPECT_EQ(cl.retries->attempts, 2);
  EXPECT_EQ(cl.retries->backoff->max, "100ms");
  EXPECT_EQ(cl.connectTimeout, 1500ms);
  EXPECT_EQ(cl.tls->serverName, "backend.internal");
  EXPECT_EQ(cl.tls->caFile, "/etc/tls/ca.crt");
  EXPECT_EQ(cl.pool.maxIdlePerEndpoint, 8u);
  EXPECT_EQ(cl.pool.idleTimeout, 90s);
}

TEST(ProxyConfigCodecTest, DecodesTimeoutsLimitsAndAccessLog) {
  const ProxyConfig c = decodeOk(yaml(kFullConfig));
  EXPECT_EQ(c.timeouts.headerRead, 5s);
  EXPECT_EQ(c.timeouts.idle, 120s);
  EXPECT_EQ(c.timeouts.request, 30s);
  EXPECT_EQ(c.timeouts.drain, 0s);
  EXPECT_EQ(c.limits.maxRequestLineBytes, 4096u);
  EXPECT_EQ(c.limits.maxHeaderBytes, 32768u);
  EXPECT_EQ(c.limits.maxHeaders, 50u);
  EXPECT_EQ(c.limits.maxBodyBytes, 1048576u);
  EXPECT_EQ(c.limits.maxRetryBufferBytes, 0u);
  EXPECT_EQ(c.limits.maxBufferedBodyBytes, 2097152u);
  EXPECT_TRUE(c.accessLog.enabled);
  EXPECT_EQ(c.accessLog.path, "/var/log/proxy.log");
}

TEST(ProxyConfigCodecTest, AbsentSectionsKeepTheStructDefaults) {
  const ProxyConfig c = decodeOk(yaml(R"(
listeners: [{name: a, address: 127.0.0.1, port: 8080}]
clusters: [{name: c, endpoints: [{address: 127.0.0.1}]}]
)"));
  const ProxyConfig defaults;
  EXPECT_EQ(c.version, "");
  EXPECT_EQ(c.admin.address, defaults.admin.address);
  EXPECT_EQ(c.admin.port, defaults.admin.port);
  EXPECT_EQ(c.listeners[0].tls, std::nullopt);
  EXPECT_EQ(c.timeouts.headerRead, defaults.timeouts.headerRead);
  EXPECT_EQ(c.timeouts.drain, defaults.timeouts.drain);
  EXPECT_EQ(c.limits.maxBodyBytes, defaults.limits.maxBodyBytes);
  EXPECT_EQ(c.accessLog.enabled, false);
  const ClusterConfig& cl = c.clusters[0];
  EXPECT_EQ(cl.loadBalancer.policy, std::nullopt);
  EXPECT_EQ(cl.connectTimeout, 2s);
  EXPECT_EQ(cl.pool.maxIdlePerEndpoint, 64u);
  EXPECT_EQ(cl.pool.idleTimeout, 60s);
  EXPECT_EQ(cl.timeout, std::nullopt);
  EXPECT_EQ(cl.healthCheck, std::nullopt);
}

TEST(ProxyConfigCodecTest, ListenerTlsMinVersionDefaultsToTls12) {
  const ProxyConfig c = decodeOk(yaml(R"(
listeners: [{name: a, address: 127.0.0.1, port: 1, tls: {certificates: []}}]
)"));
  EXPECT_EQ(c.listeners[0].tls->minVersion, "TLSv1.2");
}

TEST(ProxyConfigCodecTest, RouteNamespaceDefaultsToDefault) {
  const ProxyConfig c = decodeOk(yaml("routes: [{metadata: {name: r}, spec: {hosts: [a.b]}}]"));
  EXPECT_EQ(c.routes[0].metadata.namespace_, "default");
}

TEST(ProxyConfigCodecTest, WrongTypesAreErrorsWithPaths) {
  EXPECT_THAT(decodeErrors(yaml(R"(
version: 3
listeners: [{name: a, address: 127.0.0.1, port: "8080"}]
clusters:
- name: c
  endpoints: [{address: 127.0.0.1}, {address: 127.0.0.2, port: abc}]
  subsets: {}
accessLog: {enabled: "yes"}
)")),
              ElementsAre("version: Invalid value: 3: expected a string",
                          "listeners[0].port: Invalid value: \"8080\": expected an integer",
                          "clusters[0].endpoints[1].port: Invalid value: \"abc\": expected an "
                          "integer",
                          "clusters[0].subsets: Invalid value: \"object\": expected an array",
                          "accessLog.enabled: Invalid value: \"yes\": expected a boolean"));
}

TEST(ProxyConfigCodecTest, NonObjectDocumentIsAnError) {
  EXPECT_THAT(decodeErrors(json::array()),
              ElementsAre("Invalid value: \"array\": expected an object"));
  EXPECT_THAT(decodeErrors(yaml("listeners: 5")),
              ElementsAre("listeners: Invalid value: 5: expected an array"));
  EXPECT_THAT(decodeErrors(yaml("listeners: [5]")),
              ElementsAre("listeners[0]: Invalid value: 5: expected an object"));
}

TEST(ProxyConfigCodecTest, ValuesTheFieldsCannotHoldGetTheRuleMessage) {
  EXPECT_THAT(decodeErrors(yaml(R"(
admin: {port: -1}
listeners: [{name: a, address: 127.0.0.1, port: 70000}]
clusters: [{name: c, endpoints: [{address: 127.0.0.1, port: 65536, weight: -3}]}]
limits: {maxHeaders: 5000000000}
)")),
              ElementsAre("admin.port: Invalid value: -1: must be between 0 and 65535, inclusive",
                          "listeners[0].port: Invalid value: 70000: must be between 0 and 65535, "
                          "inclusive",
                          "clusters[0].endpoints[0].port: Invalid value: 65536: must be between 1 "
                          "and 65535, inclusive",
                          "clusters[0].endpoints[0].weight: Invalid value: -3: must be between 1 "
                          "and 1000, inclusive",
                          "limits.maxHeaders: Invalid value: 5000000000: must be between 1 and "
                          "10000, inclusive"));
}

TEST(ProxyConfigCodecTest, MalformedDurationsAreErrors) {
  EXPECT_THAT(decodeErrors(yaml(R"(
clusters: [{name: c, endpoints: [{address: 127.0.0.1}], connectTimeout: 2 seconds, timeout: 5}]
timeouts: {idle: 1d}
)")),
              ElementsAre("clusters[0].timeout: Invalid value: 5: expected a string",
                          "clusters[0].connectTimeout: Invalid value: \"2 seconds\": must be a "
                          "duration like 500ms, 10s or 1m30s (units h, m, s, ms)",
                          "timeouts.idle: Invalid value: \"1d\": must be a duration like 500ms, "
                          "10s or 1m30s (units h, m, s, ms)"));
}

TEST(ProxyConfigCodecTest, UnknownTopLevelFieldIsAnError) {
  EXPECT_THAT(
      decodeErrors(yaml("listener: []")),
      ElementsAre("listener: Invalid value: \"array\": unknown field (known fields: "
                  "version, admin, listeners, routes, clusters, secrets, auth, timeouts, limits, "
                  "accessLog, mesh)"));
}

TEST(ProxyConfigCodecTest, UnknownFieldsOfEveryProxyObjectAreErrors) {
  struct Case {
    const char* yaml;
    const char* path;
  };
  const Case cases[] = {
      {"admin: {adress: 127.0.0.1}", "admin.adress"},
      {"listeners: [{name: a, prot: 1}]", "listeners[0].prot"},
      {"listeners: [{name: a, tls: {minVerison: TLSv1.3}}]", "listeners[0].tls.minVerison"},
      {"listeners: [{name: a, tcp: {cluster: db, prot: 1}}]", "listeners[0].tcp.prot"},
      {"listeners: [{name: a, tls: {certificates: [{cert: x}]}}]",
       "listeners[0].tls.certificates[0].cert"},
      {"routes: [{metadata: {name: r}, sepc: {}}]", "routes[0].sepc"},
      {"clusters: [{name: c, endpoint: []}]", "clusters[0].endpoint"},
      {"clusters: [{name: c, endpoints: [{address: 127.0.0.1, wieght: 2}]}]",
       "clusters[0].endpoints[0].wieght"},
      {"clusters: [{name: c, subsets: [{name: v1, label: {}}]}]", "clusters[0].subsets[0].label"},
      {"clusters: [{name: c, pool: {maxIdle: 1}}]", "clusters[0].pool.maxIdle"},
      {"clusters: [{name: c, tls: {sni: x}}]", "clusters[0].tls.sni"},
      {"clusters: [{name: c, loadBalancer: {polcy: Random}}]", "clusters[0].loadBalancer.polcy"},
      {"clusters: [{name: c, loadBalancer: {hash: {ip: true}}}]",
       "clusters[0].loadBalancer.hash.ip"},
      {"clusters: [{name: c, healthCheck: {path: /, intervall: 1s}}]",
       "clusters[0].healthCheck.intervall"},
      {"clusters: [{name: c, outlierDetection: {errors: 1}}]",
       "clusters[0].outlierDetection.errors"},
      {"clusters: [{name: c, circuitBreaker: {maxConns: 1}}]",
       "clusters[0].circuitBreaker.maxConns"},
      {"clusters: [{name: c, retries: {attempt: 1}}]", "clusters[0].retries.attempt"},
      {"clusters: [{name: c, retries: {backoff: {min: 1s}}}]", "clusters[0].retries.backoff.min"},
      {"timeouts: {read: 1s}", "timeouts.read"},
      {"limits: {maxBody: 1}", "limits.maxBody"},
      {"accessLog: {file: /tmp/x}", "accessLog.file"},
  };
  for (const Case& c : cases) {
    const auto errors = decodeProxyConfig(yaml(c.yaml)).errors;
    ASSERT_EQ(errors.size(), 1u) << c.yaml << "\n" << api::formatErrors(errors);
    EXPECT_EQ(errors[0].field, c.path) << c.yaml;
    EXPECT_EQ(errors[0].type, api::ErrorType::kInvalid) << c.yaml;
    EXPECT_THAT(errors[0].detail, ::testing::StartsWith("unknown field (known fields: ")) << c.yaml;
  }
}

TEST(ProxyConfigCodecTest, UnknownFieldsInsideRouteSpecsFollowTheApiDecoder) {
  // The ApiRoute decoder ignores unknown fields (as the apiserver prunes them); so does the file.
  const ProxyConfig c = decodeOk(yaml(R"(
routes: [{metadata: {name: r, extra: 1}, spec: {hosts: [a.b], unknown: true}}]
)"));
  EXPECT_EQ(c.routes[0].metadata.name, "r");
}

TEST(ProxyConfigCodecTest, RouteDecodeErrorsArePrefixedWithTheRoutePath) {
  EXPECT_THAT(decodeErrors(yaml(R"(
routes:
- metadata: {name: ok}
- kind: MeshService
  spec: {hosts: a.example.com, rules: [{backends: [{port: x}]}]}
)")),
              ElementsAre("routes[1].kind: Unsupported value: \"MeshService\": supported values: "
                          "\"ApiRoute\"",
                          "routes[1].spec.hosts: Invalid value: \"a.example.com\": expected an "
                          "array",
                          "routes[1].spec.rules[0].backends[0].port: Invalid value: \"x\": "
                          "expected an integer"));
}

TEST(ProxyConfigCodecTest, NullCountsAsAbsent) {
  const ProxyConfig c = decodeOk(yaml("version: ~\nadmin: ~\nlisteners: [{name: a, tls: null}]"));
  EXPECT_EQ(c.version, "");
  EXPECT_EQ(c.listeners[0].tls, std::nullopt);
}

TEST(ProxyConfigCodecTest, EncodeRoundTripsThroughDecode) {
  const ProxyConfig original = decodeOk(yaml(kFullConfig));
  const json encoded = encodeProxyConfig(original);
  const ProxyConfig decoded = decodeOk(encoded);
  EXPECT_EQ(encodeProxyConfig(decoded), encoded);
  // Spot checks on the struct itself, beyond the JSON equality.
  EXPECT_EQ(decoded.routes, original.routes);
  EXPECT_EQ(decoded.clusters[0].loadBalancer, original.clusters[0].loadBalancer);
  EXPECT_EQ(decoded.clusters[0].healthCheck, original.clusters[0].healthCheck);
  EXPECT_EQ(decoded.clusters[0].retries, original.clusters[0].retries);
  EXPECT_EQ(decoded.clusters[0].endpoints[0].labels, original.clusters[0].endpoints[0].labels);
  EXPECT_EQ(decoded.clusters[0].pool.idleTimeout, 90s);
  EXPECT_EQ(decoded.listeners[0].tls->certificates.size(), 2u);
}

TEST(ProxyConfigCodecTest, EncodeWritesDefaultsAndCanonicalDurations) {
  ProxyConfig c;
  c.listeners.push_back({.name = "a", .address = "127.0.0.1", .port = 8080, .tls = {}});
  ClusterConfig cluster;
  cluster.name = "c";
  cluster.endpoints.push_back({.address = "127.0.0.1", .port = {}, .weight = 1, .labels = {}});
  cluster.timeout = 90s;
  c.clusters.push_back(cluster);
  const json j = encodeProxyConfig(c);
  EXPECT_EQ(j["timeouts"], json::parse(R"({"headerRead":"10s","idle":"1m","request":"0s",
                                           "drain":"15s"})"));
  EXPECT_EQ(j["admin"], json::parse(R"({"address":"127.0.0.1","port":15000})"));
  EXPECT_EQ(j["clusters"][0]["timeout"], "1m30s");
  EXPECT_EQ(j["clusters"][0]["connectTimeout"], "2s");
  EXPECT_EQ(j["clusters"][0]["endpoints"][0], json::parse(R"({"address":"127.0.0.1","weight":1})"));
  EXPECT_FALSE(j["clusters"][0].contains("healthCheck"));
  EXPECT_FALSE(j["clusters"][0].contains("tls"));
  EXPECT_FALSE(j["listeners"][0].contains("tls"));
  EXPECT_EQ(j["limits"]["maxBodyBytes"], 10485760);
}

TEST(ProxyConfigCodecTest, EncodedRoutesAreBareMetadataAndSpec) {
  const ProxyConfig c = decodeOk(yaml(kFullConfig));
  const json route = encodeProxyConfig(c)["routes"][0];
  EXPECT_FALSE(route.contains("apiVersion"));
  EXPECT_FALSE(route.contains("kind"));
  EXPECT_FALSE(route.contains("status"));
  EXPECT_EQ(route["metadata"]["namespace"], "web");
  EXPECT_EQ(route["spec"]["hosts"], json::array({"shop.example.com"}));
}

TEST(ProxyConfigCodecTest, SecretsAndAuthSettingsRoundTripAndSecretValuesRedact) {
  const ProxyConfig c = decodeOk(yaml(R"(
listeners: [{name: a, address: 127.0.0.1, port: 8080}]
secrets:
- {name: keys, namespace: shop, data: {api-keys: "mobile: 0123456789abcdef"}}
auth: {clockSkew: 30s, maxTokenBytes: 4096, jwksRefreshInterval: 1m, verifiedTokenCacheSize: 0}
limits: {maxRateLimitKeys: 5000}
)"));
  ASSERT_EQ(c.secrets.size(), 1u);
  EXPECT_EQ(c.secrets[0].namespace_, "shop");
  EXPECT_EQ(c.secrets[0].data.at("api-keys"), "mobile: 0123456789abcdef");
  EXPECT_EQ(c.auth.clockSkew, 30s);
  EXPECT_EQ(c.auth.maxTokenBytes, 4096u);
  EXPECT_EQ(c.auth.jwksRefreshInterval, 1min);
  EXPECT_EQ(c.auth.jwksFetchTimeout, 5s);
  EXPECT_EQ(c.auth.verifiedTokenCacheSize, 0u);
  EXPECT_EQ(c.limits.maxRateLimitKeys, 5000u);
  const json encoded = encodeProxyConfig(c);
  EXPECT_EQ(encodeProxyConfig(decodeOk(encoded)), encoded);
  const json redacted = encodeProxyConfig(c, SecretEncoding::kRedact);
  EXPECT_EQ(redacted["secrets"][0]["data"]["api-keys"], std::string(kRedacted));
  EXPECT_EQ(redacted.dump().find("0123456789abcdef"), std::string::npos);
}

TEST(ProxyConfigCodecTest, SecretsRejectUnknownFieldsAndNonTextValues) {
  EXPECT_THAT(
      decodeErrors(yaml("secrets: [{name: a, stringData: {k: v}, data: {k: 1}}]")),
      ElementsAre(
          "secrets[0].stringData: Invalid value: \"object\": unknown field (known fields: name, "
          "namespace, data, files)",
          "secrets[0].data[k]: Invalid value: 1: expected a string"));
}

const char* const kMeshConfig = R"(
mesh:
  identity: spiffe://cluster.local/ns/shop/sa/cart
  trustDomain: cluster.local
  outbound:
  - name: payments
    namespace: pay
    addresses: [10.96.0.7, "fd00::7"]
    ports: [80, 8443]
    hosts: [payments.pay.svc.cluster.local, payments.pay.svc, payments.pay]
    identity: spiffe://cluster.local/ns/pay/sa/payments
    allowed: false
  - {name: web, namespace: shop}
  inbound:
  - port: 8080
    mtlsMode: Permissive
    allow: [{namespace: front}, {serviceAccount: checkout}, {namespace: ops, serviceAccount: cli}]
    service: shop/cart
  - {port: 9090, mtlsMode: Disabled, allow: [], service: shop/cart-admin}
  - {port: 9100, service: shop/metrics}
)";

TEST(ProxyConfigCodecTest, DecodesTheMeshSection) {
  const ProxyConfig c = decodeOk(yaml(kMeshConfig));
  ASSERT_TRUE(c.mesh.has_value());
  const MeshConfig& mesh = *c.mesh;
  EXPECT_EQ(mesh.identity, "spiffe://cluster.local/ns/shop/sa/cart");
  EXPECT_EQ(mesh.trustDomain, "cluster.local");
  ASSERT_EQ(mesh.outbound.size(), 2u);
  const MeshOutboundService& payments = mesh.outbound[0];
  EXPECT_EQ(payments.name, "payments");
  EXPECT_EQ(payments.namespace_, "pay");
  EXPECT_THAT(payments.addresses, ElementsAre("10.96.0.7", "fd00::7"));
  EXPECT_THAT(payments.ports, ElementsAre(80, 8443));
  EXPECT_THAT(payments.hosts,
              ElementsAre("payments.pay.svc.cluster.local", "payments.pay.svc", "payments.pay"));
  EXPECT_EQ(payments.identity, "spiffe://cluster.local/ns/pay/sa/payments");
  EXPECT_FALSE(payments.allowed);
  // Absent members keep the struct's defaults: allowed, no addresses, no identity (plaintext).
  EXPECT_TRUE(mesh.outbound[1].allowed);
  EXPECT_THAT(mesh.outbound[1].addresses, IsEmpty());
  EXPECT_EQ(mesh.outbound[1].identity, "");

  ASSERT_EQ(mesh.inbound.size(), 3u);
  EXPECT_EQ(mesh.inbound[0].port, 8080);
  EXPECT_EQ(mesh.inbound[0].mtlsMode, "Permissive");
  EXPECT_EQ(mesh.inbound[0].service, "shop/cart");
  ASSERT_TRUE(mesh.inbound[0].allow.has_value());
  EXPECT_THAT(*mesh.inbound[0].allow,
              ElementsAre(AuthorizationRule{.namespace_ = "front"},
                          AuthorizationRule{.serviceAccount = "checkout"},
                          AuthorizationRule{.namespace_ = "ops", .serviceAccount = "cli"}));
  // An empty list (nobody) is not an absent one (anyone of the mesh).
  ASSERT_TRUE(mesh.inbound[1].allow.has_value());
  EXPECT_THAT(*mesh.inbound[1].allow, IsEmpty());
  EXPECT_EQ(mesh.inbound[1].mtlsMode, "Disabled");
  EXPECT_EQ(mesh.inbound[2].allow, std::nullopt);
  EXPECT_EQ(mesh.inbound[2].mtlsMode, "Strict") << "the struct's default";
}

TEST(ProxyConfigCodecTest, AbsentOrNullMeshIsNoMesh) {
  EXPECT_EQ(decodeOk(yaml("version: a")).mesh, std::nullopt);
  EXPECT_EQ(decodeOk(yaml("mesh: ~")).mesh, std::nullopt);
  EXPECT_EQ(decodeOk(yaml("mesh: {inbound: [{port: 1, allow: ~}]}")).mesh->inbound[0].allow,
            std::nullopt);
  const ProxyConfig empty = decodeOk(yaml("mesh: {}"));
  ASSERT_TRUE(empty.mesh.has_value());
  EXPECT_THAT(empty.mesh->outbound, IsEmpty());
}

TEST(ProxyConfigCodecTest, MeshWrongTypesRangesAndModesAreFieldErrors) {
  EXPECT_THAT(
      decodeErrors(yaml(R"(
mesh:
  identity: 7
  outbound:
  - {name: a, addresses: "10.0.0.1", ports: [0, 65536, x], hosts: [5], allowed: "no"}
  inbound:
  - {port: 0, mtlsMode: STRICT, allow: {namespace: a}}
  - {port: "80", mtlsMode: 1, allow: [{namespace: 3}, 4]}
)")),
      ElementsAre(
          "mesh.identity: Invalid value: 7: expected a string",
          "mesh.outbound[0].addresses: Invalid value: \"10.0.0.1\": expected an array",
          "mesh.outbound[0].ports[0]: Invalid value: 0: must be between 1 and 65535, inclusive",
          "mesh.outbound[0].ports[1]: Invalid value: 65536: must be between 1 and 65535, "
          "inclusive",
          "mesh.outbound[0].ports[2]: Invalid value: \"x\": expected an integer",
          "mesh.outbound[0].hosts[0]: Invalid value: 5: expected a string",
          "mesh.outbound[0].allowed: Invalid value: \"no\": expected a boolean",
          "mesh.inbound[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
          "mesh.inbound[0].mtlsMode: Unsupported value: \"STRICT\": supported values: "
          "\"Strict\", \"Permissive\", \"Disabled\"",
          "mesh.inbound[0].allow: Invalid value: \"object\": expected an array",
          "mesh.inbound[1].port: Invalid value: \"80\": expected an integer",
          "mesh.inbound[1].mtlsMode: Invalid value: 1: expected a string",
          "mesh.inbound[1].allow[0].namespace: Invalid value: 3: expected a string",
          "mesh.inbound[1].allow[1]: Invalid value: 4: expected an object"));
  EXPECT_THAT(decodeErrors(yaml("mesh: [1]")),
              ElementsAre("mesh: Invalid value: \"array\": expected an object"));
}

TEST(ProxyConfigCodecTest, UnknownFieldsOfTheMeshSectionAreErrors) {
  EXPECT_THAT(
      decodeErrors(yaml(R"(
mesh:
  identities: []
  outbound: [{name: a, port: 80}]
  inbound: [{port: 80, allowed: []}]
)")),
      ElementsAre("mesh.identities: Invalid value: \"array\": unknown field (known fields: "
                  "identity, trustDomain, outbound, inbound)",
                  "mesh.outbound[0].port: Invalid value: 80: unknown field (known fields: name, "
                  "namespace, addresses, ports, tcpPorts, hosts, identity, allowed)",
                  "mesh.inbound[0].allowed: Invalid value: \"array\": unknown field (known "
                  "fields: port, mtlsMode, allow, service, http2, tcp)"));
  EXPECT_THAT(decodeErrors(yaml("mesh: {inbound: [{port: 80, allow: [{sa: x}]}]}")),
              ElementsAre("mesh.inbound[0].allow[0].sa: Invalid value: \"x\": unknown field "
                          "(known fields: namespace, serviceAccount)"));
}

TEST(ProxyConfigCodecTest, TlsPassthroughRoutesRoundTrip) {
  const ProxyConfig decoded = decodeOk(yaml(R"(
listeners:
  - name: edge
    address: 127.0.0.1
    port: 8443
    tlsPassthrough:
      - {serverNames: [db.example.com, "*.db.example.com"], cluster: pg, port: 5432}
      - {serverNames: [mq.example.com], cluster: mq, namespace: data, port: 5671, idleTimeout: 5m}
)"));
  ASSERT_EQ(decoded.listeners[0].tlsPassthrough.size(), 2u);
  const TlsPassthroughRoute& db = decoded.listeners[0].tlsPassthrough[0];
  EXPECT_THAT(db.serverNames, ElementsAre("db.example.com", "*.db.example.com"));
  EXPECT_EQ(db.cluster, "pg");
  EXPECT_EQ(db.port, 5432);
  EXPECT_EQ(db.idleTimeout, 1h) << "Envoy's tcp_proxy default, as for tcp";
  EXPECT_EQ(decoded.listeners[0].tlsPassthrough[1].namespace_, "data");
  EXPECT_EQ(decoded.listeners[0].tlsPassthrough[1].idleTimeout, 5min);
  const json encoded = encodeProxyConfig(decoded);
  EXPECT_EQ(encoded["listeners"][0]["tlsPassthrough"][0],
            json::parse(R"({"serverNames":["db.example.com","*.db.example.com"],"cluster":"pg",)"
                        R"("port":5432,"idleTimeout":"1h"})"));
  EXPECT_EQ(encodeProxyConfig(decodeOk(encoded)), encoded);
  EXPECT_FALSE(encodeProxyConfig(
                   decodeOk(yaml("listeners: [{name: a, address: 127.0.0.1}]")))["listeners"][0]
                   .contains("tlsPassthrough"));
  EXPECT_THAT(decodeErrors(yaml("listeners: [{name: a, tlsPassthrough: [{serverName: x}]}]")),
              ElementsAre("listeners[0].tlsPassthrough[0].serverName: Invalid value: \"x\": "
                          "unknown field (known fields: serverNames, cluster, namespace, port, "
                          "idleTimeout)"));
}

TEST(ProxyConfigCodecTest, MeshTcpPortsRoundTripAndAreOmittedWhenNone) {
  const ProxyConfig decoded = decodeOk(yaml(R"(
mesh:
  identity: spiffe://cluster.local/ns/shop/sa/web
  outbound: [{name: db, namespace: shop, ports: [8080], tcpPorts: [5432, 6379]}]
  inbound: [{port: 5432, tcp: true}, {port: 8080}]
)"));
  EXPECT_THAT(decoded.mesh->outbound[0].tcpPorts, ElementsAre(5432, 6379));
  EXPECT_TRUE(decoded.mesh->inbound[0].tcp);
  EXPECT_FALSE(decoded.mesh->inbound[1].tcp);
  const json encoded = encodeProxyConfig(decoded);
  EXPECT_EQ(encoded["mesh"]["outbound"][0]["tcpPorts"], json::array({5432, 6379}));
  EXPECT_EQ(encoded["mesh"]["inbound"][0]["tcp"], true);
  EXPECT_FALSE(encoded["mesh"]["inbound"][1].contains("tcp"));
  EXPECT_EQ(encodeProxyConfig(decodeOk(encoded)), encoded);
  EXPECT_THAT(decodeErrors(yaml("mesh: {outbound: [{name: a, tcpPorts: [0]}]}")),
              ElementsAre(::testing::StartsWith("mesh.outbound[0].tcpPorts[0]: Invalid value: 0")));
}

TEST(ProxyConfigCodecTest, MeshEncodesAndRoundTripsOnlyWhenSet) {
  EXPECT_FALSE(encodeProxyConfig(ProxyConfig{}).contains("mesh"));

  const ProxyConfig original = decodeOk(yaml(kMeshConfig));
  const json encoded = encodeProxyConfig(original);
  ASSERT_TRUE(encoded.contains("mesh"));
  // Every member is written, defaults included; an absent allow stays absent, an empty one empty.
  EXPECT_EQ(encoded["mesh"]["outbound"][1], (json{{"name", "web"},
                                                  {"namespace", "shop"},
                                                  {"addresses", json::array()},
                                                  {"ports", json::array()},
                                                  {"hosts", json::array()},
                                                  {"identity", ""},
                                                  {"allowed", true}}));
  EXPECT_EQ(encoded["mesh"]["inbound"][1]["allow"], json::array());
  EXPECT_FALSE(encoded["mesh"]["inbound"][2].contains("allow"));
  EXPECT_EQ(encoded["mesh"]["inbound"][0]["allow"][1], (json{{"serviceAccount", "checkout"}}));

  const ProxyConfig decoded = decodeOk(encoded);
  EXPECT_EQ(encodeProxyConfig(decoded), encoded);
  ASSERT_TRUE(decoded.mesh.has_value());
  EXPECT_EQ(decoded.mesh->inbound[0].allow, original.mesh->inbound[0].allow);
  EXPECT_EQ(decoded.mesh->inbound[1].allow, original.mesh->inbound[1].allow);
  EXPECT_EQ(decoded.mesh->inbound[2].allow, std::nullopt);
  EXPECT_EQ(decoded.mesh->outbound[0].ports, original.mesh->outbound[0].ports);
  EXPECT_FALSE(decoded.mesh->outbound[0].allowed);
}

}  // namespace
}  // namespace meshgate::api
