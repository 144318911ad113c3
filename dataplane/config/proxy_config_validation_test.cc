// Tests of validateProxyConfig: each rule of docs/PROXY_CONFIG.md with its exact message,
// references from routes to clusters and subsets, refused route features and the TLS file checks
// against throwaway keys and certificates. The relays (TCP listeners, TLS passthrough, mesh TCP
// ports) are in proxy_config_relay_validation_test.cc.
#include "dataplane/config/proxy_config_validation.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/proxy_config_codec.h"
#include "api/yaml_loader.h"
#include "dataplane/config/testing_tls_files.h"
#include "dataplane/config/testing_validation_config.h"

namespace meshgate::dp {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

// A small valid config the tests break one rule at a time.
using testing::baseConfig;
using testing::cluster;
using testing::errorsOf;
using testing::route;
using testing::rule;

TEST(ProxyConfigValidationTest, BaseConfigIsValid) {
  EXPECT_THAT(errorsOf(baseConfig()), IsEmpty());
}

TEST(ProxyConfigValidationTest, VersionMayNotBeTooLong) {
  ProxyConfig c = baseConfig();
  c.version = std::string(129, 'v');
  EXPECT_THAT(errorsOf(c), ElementsAre("version: Too long: may not be more than 128 bytes"));
}

TEST(ProxyConfigValidationTest, AdminAddressMustBeAnIpAddress) {
  ProxyConfig c = baseConfig();
  c.admin.address = "localhost";
  EXPECT_THAT(errorsOf(c), ElementsAre("admin.address: Invalid value: \"localhost\": must be a "
                                       "valid IPv4 or IPv6 address"));
}

TEST(ProxyConfigValidationTest, AtLeastOneListenerIsRequired) {
  ProxyConfig c = baseConfig();
  c.listeners.clear();
  EXPECT_THAT(errorsOf(c), ElementsAre("listeners: Required value: at least one listener"));
}

TEST(ProxyConfigValidationTest, ListenerNamesAreRequiredUniqueDnsLabels) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back({.name = "", .address = "127.0.0.1", .port = 8081, .tls = {}});
  c.listeners.push_back({.name = "Public", .address = "127.0.0.1", .port = 8082, .tls = {}});
  c.listeners.push_back({.name = "public", .address = "127.0.0.1", .port = 8083, .tls = {}});
  EXPECT_THAT(errorsOf(c),
              ElementsAre("listeners[1].name: Required value",
                          "listeners[2].name: Invalid value: \"Public\": must be a lowercase RFC "
                          "1123 label (a-z, 0-9, '-', starting and ending with an alphanumeric), "
                          "at most 63 characters",
                          "listeners[3].name: Duplicate value: \"public\""));
}

TEST(ProxyConfigValidationTest, ListenerAddressMustBeAnIpLiteral) {
  ProxyConfig c = baseConfig();
  c.listeners[0].address = "example.com";
  c.listeners.push_back({.name = "b", .address = "", .port = 1, .tls = {}});
  EXPECT_THAT(errorsOf(c), ElementsAre("listeners[0].address: Invalid value: \"example.com\": "
                                       "must be a valid IPv4 or IPv6 address",
                                       "listeners[1].address: Required value"));
}

TEST(ProxyConfigValidationTest, DuplicateListenerPortsOnOneAddressConflict) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back({.name = "again", .address = "127.0.0.1", .port = 8080, .tls = {}});
  EXPECT_THAT(errorsOf(c), ElementsAre("listeners[1].port: Invalid value: 8080: conflicts with "
                                       "listeners[0] (127.0.0.1:8080)"));
}

TEST(ProxyConfigValidationTest, WildcardAddressConflictsWithEveryAddressOnItsPort) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back({.name = "any", .address = "::", .port = 8080, .tls = {}});
  c.listeners.push_back({.name = "v6", .address = "0:0:0:0:0:0:0:1", .port = 9090, .tls = {}});
  c.listeners.push_back({.name = "v6b", .address = "::1", .port = 9090, .tls = {}});
  EXPECT_THAT(errorsOf(c), ElementsAre("listeners[1].port: Invalid value: 8080: conflicts with "
                                       "listeners[0] (127.0.0.1:8080)",
                                       "listeners[3].port: Invalid value: 9090: conflicts with "
                                       "listeners[2] ([0:0:0:0:0:0:0:1]:9090)"));
}

TEST(ProxyConfigValidationTest, SamePortOnDifferentAddressesAndPortZeroAreAllowed) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back({.name = "other", .address = "127.0.0.2", .port = 8080, .tls = {}});
  c.listeners.push_back({.name = "eph1", .address = "127.0.0.1", .port = 0, .tls = {}});
  c.listeners.push_back({.name = "eph2", .address = "127.0.0.1", .port = 0, .tls = {}});
  c.admin.port = 0;
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, ListenerMayNotTakeTheAdminSocket) {
  ProxyConfig c = baseConfig();
  c.listeners[0].port = 15000;
  EXPECT_THAT(errorsOf(c), ElementsAre("listeners[0].port: Invalid value: 15000: conflicts with "
                                       "admin (127.0.0.1:15000)"));
}

TEST(ProxyConfigValidationTest, ListenerTlsNeedsCertificatesAndAKnownVersion) {
  ProxyConfig c = baseConfig();
  c.listeners[0].tls = ListenerTls{.certificates = {}, .minVersion = "TLSv1.1"};
  EXPECT_THAT(errorsOf(c), ElementsAre("listeners[0].tls.minVersion: Unsupported value: "
                                       "\"TLSv1.1\": supported values: \"TLSv1.2\", \"TLSv1.3\"",
                                       "listeners[0].tls.certificates: Required value"));
}

TEST(ProxyConfigValidationTest, MatchingKeyAndCertificateAreAccepted) {
  testing::TempTlsDir dir;
  const std::string a = dir.writeKeyAndCertificate("a");
  const std::string b = dir.writeKeyAndCertificate("b");
  ProxyConfig c = baseConfig();
  c.listeners[0].tls =
      ListenerTls{.certificates = {{.certFile = a + ".crt", .keyFile = a + ".key"},
                                   {.certFile = b + ".crt", .keyFile = b + ".key"}},
                  .minVersion = "TLSv1.3"};
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, KeyOfAnotherCertificateIsRefused) {
  testing::TempTlsDir dir;
  const std::string a = dir.writeKeyAndCertificate("a");
  const std::string b = dir.writeKeyAndCertificate("b");
  ProxyConfig c = baseConfig();
  c.listeners[0].tls = ListenerTls{
      .certificates = {{.certFile = a + ".crt", .keyFile = b + ".key"}}, .minVersion = "TLSv1.2"};
  EXPECT_THAT(errorsOf(c),
              ElementsAre("listeners[0].tls.certificates[0].keyFile: Invalid value: \"" + b +
                          ".key\": does not match the certificate in certFile"));
}

TEST(ProxyConfigValidationTest, MissingAndMalformedTlsFilesAreRefused) {
  testing::TempTlsDir dir;
  const std::string a = dir.writeKeyAndCertificate("a");
  const std::string garbage = dir.writeFile("garbage.pem", "hello\n");
  const std::string missing = dir.path("missing.crt");
  ProxyConfig c = baseConfig();
  c.listeners[0].tls = ListenerTls{.certificates = {{.certFile = missing, .keyFile = a + ".key"},
                                                    {.certFile = a + ".key", .keyFile = garbage},
                                                    {.certFile = "", .keyFile = ""}},
                                   .minVersion = "TLSv1.2"};
  EXPECT_THAT(errorsOf(c),
              ElementsAre("listeners[0].tls.certificates[0].certFile: Invalid value: \"" + missing +
                              "\": cannot read: No such file or directory",
                          "listeners[0].tls.certificates[1].certFile: Invalid value: \"" + a +
                              ".key\": no PEM certificate found",
                          "listeners[0].tls.certificates[1].keyFile: Invalid value: \"" + garbage +
                              "\": no unencrypted PEM private key found",
                          "listeners[0].tls.certificates[2].certFile: Required value",
                          "listeners[0].tls.certificates[2].keyFile: Required value"));
}

TEST(ProxyConfigValidationTest, CorruptCertificateBlockIsRefused) {
  testing::TempTlsDir dir;
  const std::string a = dir.writeKeyAndCertificate("a");
  const std::string corrupt = dir.writeFile(
      "corrupt.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  ProxyConfig c = baseConfig();
  c.listeners[0].tls = ListenerTls{.certificates = {{.certFile = corrupt, .keyFile = a + ".key"}},
                                   .minVersion = "TLSv1.2"};
  EXPECT_THAT(errorsOf(c),
              ElementsAre("listeners[0].tls.certificates[0].certFile: Invalid value: "
                          "\"" +
                          corrupt + "\": holds a PEM block that is not a valid certificate"));
}

TEST(ProxyConfigValidationTest, EachRouteIsValidatedAsAnApiRouteWithPrefixedPaths) {
  ProxyConfig c = baseConfig();
  route(c).metadata.name = "Shop";
  route(c).spec.hosts.push_back("shop.example.com");
  rule(c).backends[0].port = 0;
  EXPECT_THAT(errorsOf(c),
              ElementsAre("routes[0].metadata.name: Invalid value: \"Shop\": must be a lowercase "
                          "RFC 1123 subdomain, at most 253 characters",
                          "routes[0].spec.hosts[1]: Duplicate value: \"shop.example.com\"",
                          "routes[0].spec.rules[0].backends[0].port: Required value"));
}

TEST(ProxyConfigValidationTest, RoutesAreUniqueByNamespaceAndName) {
  ProxyConfig c = baseConfig();
  c.routes.push_back(c.routes[0]);
  c.routes.push_back(c.routes[0]);
  c.routes[2].metadata.namespace_ = "other";
  EXPECT_THAT(errorsOf(c), ElementsAre("routes[1].metadata.name: Duplicate value: \"shop\""));
}

TEST(ProxyConfigValidationTest, BackendMustNameAnExistingCluster) {
  ProxyConfig c = baseConfig();
  rule(c, 1).backends[0].service = "shopx";
  EXPECT_THAT(errorsOf(c), ElementsAre("routes[0].spec.rules[1].backends[0].service: Not found: "
                                       "\"shopx\": no cluster of that name"));
}

TEST(ProxyConfigValidationTest, BackendSubsetMustExistInItsCluster) {
  ProxyConfig c = baseConfig();
  rule(c).backends[0].subset = "v3";
  EXPECT_THAT(errorsOf(c), ElementsAre("routes[0].spec.rules[0].backends[0].subset: Not found: "
                                       "\"v3\": no subset of that name in cluster \"shop\""));
}

TEST(ProxyConfigValidationTest, InvalidRegexIsRefused) {
  ProxyConfig c = baseConfig();
  rule(c).matches[0].path->value = "^/items/(";
  const auto errors = errorsOf(c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith("routes[0].spec.rules[0].matches[0].path.value: "
                                               "Invalid value: \"^/items/(\": must be a valid RE2 "
                                               "regular expression: "));
}

TEST(ProxyConfigValidationTest, ARouteCertificateSecretIsRefused) {
  ProxyConfig c = baseConfig();
  route(c).spec.tls = api::RouteTls{.secretName = "shop-tls", .redirectHTTP = true};
  EXPECT_THAT(errorsOf(c), ElementsAre("routes[0].spec.tls.secretName: Forbidden: not supported "
                                       "by meshgate-proxy yet"));
}

TEST(ProxyConfigValidationTest, AuthRateLimitsAndCorsAreServed) {
  ProxyConfig c = baseConfig();
  c.secrets.push_back(SecretConfig{.name = "keys",
                                   .namespace_ = {},
                                   .data = {{"api-keys", "mobile: 0123456789abcdef0123\n"}},
                                   .files = {}});
  route(c).spec.auth = api::Auth{.jwt = {},
                                 .apiKey = api::ApiKeyAuth{.secretRef = {.name = "keys"}},
                                 .allowAnonymous = true,
                                 .disabled = {}};
  rule(c).rateLimit = api::RateLimit{
      .requests = 10, .unit = "Second", .burst = {}, .key = api::RateLimitKey{.type = "ApiKey"}};
  rule(c, 1).cors = api::Cors{.allowOrigins = {"*"},
                              .allowMethods = {},
                              .allowHeaders = {},
                              .exposeHeaders = {},
                              .maxAge = {},
                              .allowCredentials = {}};
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, SecretRefsMustResolveToUsableContent) {
  ProxyConfig c = baseConfig();
  c.secrets.push_back(SecretConfig{
      .name = "keys", .namespace_ = {}, .data = {{"api-keys", "mobile: short\n"}}, .files = {}});
  route(c).spec.auth = api::Auth{
      .jwt = api::JwtAuth{.issuer = "https://id.test",
                          .audiences = {"shop"},
                          .jwks = {.secretRef = api::SecretKeyRef{.name = "jwks"}, .uri = {}},
                          .claimHeaders = {}},
      .apiKey = api::ApiKeyAuth{.secretRef = {.name = "keys"}},
      .allowAnonymous = {},
      .disabled = {}};
  const auto errors = errorsOf(c);
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0],
            "routes[0].spec.auth.jwt.jwks.secretRef.name: Not found: \"jwks\": no secret of that "
            "name in secrets[]");
  EXPECT_THAT(errors[1], ::testing::StartsWith("routes[0].spec.auth.apiKey.secretRef: Invalid "
                                               "value: \"keys/api-keys\": no usable API keys: "));
  EXPECT_THAT(errors[1], ::testing::Not(::testing::HasSubstr("short")));
  // The operator's stream may name a Secret that does not exist (yet): the rule answers 503.
  EXPECT_EQ(validateProxyConfig(c, nullptr, ConfigSource::kControlPlane).size(), 0u);
}

TEST(ProxyConfigValidationTest, RateLimitKeysNeedTheCredentialTheyAreKeyedBy) {
  ProxyConfig c = baseConfig();
  rule(c).rateLimit = api::RateLimit{
      .requests = 10, .unit = "Second", .burst = {}, .key = api::RateLimitKey{.type = "JwtClaim"}};
  rule(c).rateLimit->key->name = "sub";
  rule(c, 1).rateLimit = api::RateLimit{
      .requests = 10, .unit = "Second", .burst = {}, .key = api::RateLimitKey{.type = "ApiKey"}};
  EXPECT_THAT(errorsOf(c),
              ElementsAre("routes[0].spec.rules[0].rateLimit.key.type: Invalid value: "
                          "\"JwtClaim\": the rule's auth verifies no JWT",
                          "routes[0].spec.rules[1].rateLimit.key.type: Invalid value: \"ApiKey\": "
                          "the rule's auth checks no API key"));
}

TEST(ProxyConfigValidationTest, RedirectHttpAndDisabledRuleAuthAreAllowed) {
  ProxyConfig c = baseConfig();
  route(c).spec.tls = api::RouteTls{.secretName = {}, .redirectHTTP = true};
  rule(c).auth = api::Auth{.jwt = {}, .apiKey = {}, .allowAnonymous = {}, .disabled = true};
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, ClusterNamesAreRequiredUniqueDnsLabels) {
  ProxyConfig c = baseConfig();
  c.clusters.push_back(cluster(c));
  c.clusters.push_back(cluster(c));
  c.clusters.push_back(cluster(c));
  c.clusters[2].name = "";
  c.clusters[3].name = "a.b";
  EXPECT_THAT(
      errorsOf(c),
      ElementsAre("clusters[1].name: Duplicate value: \"shop\"", "clusters[2].name: Required value",
                  "clusters[3].name: Invalid value: \"a.b\": must be a lowercase RFC 1123 "
                  "label (a-z, 0-9, '-', starting and ending with an alphanumeric), at "
                  "most 63 characters"));
}

TEST(ProxyConfigValidationTest, ClusterNeedsEndpointsInAFileOnly) {
  ProxyConfig c = baseConfig();
  cluster(c).endpoints.clear();
  EXPECT_THAT(errorsOf(c),
              ElementsAre("clusters[0].endpoints: Required value: at least one endpoint"));
  // From the operator, a MeshService that selects no ready pod yet: its routes answer 503.
  EXPECT_TRUE(validateProxyConfig(c, nullptr, ConfigSource::kControlPlane).empty());
  // The endpoints it has still follow every rule.
  cluster(c).endpoints.push_back({});
  EXPECT_FALSE(validateProxyConfig(c, nullptr, ConfigSource::kControlPlane).empty());
}

TEST(ProxyConfigValidationTest, EndpointRules) {
  ProxyConfig c = baseConfig();
  auto& eps = cluster(c).endpoints;
  eps[0].address = "10.0.0.300";
  eps[0].port = 0;
  eps[0].weight = 0;
  eps[1].weight = 1001;
  eps[1].labels = {{"-bad", "x"}};
  eps.push_back({.address = "127.0.0.3", .port = {}, .weight = 1, .labels = {}});
  EXPECT_THAT(errorsOf(c),
              ElementsAre("clusters[0].endpoints[0].address: Invalid value: \"10.0.0.300\": must "
                          "be a valid IPv4 or IPv6 address",
                          "clusters[0].endpoints[0].port: Invalid value: 0: must be between 1 and "
                          "65535, inclusive",
                          "clusters[0].endpoints[0].weight: Invalid value: 0: must be between 1 "
                          "and 1000, inclusive",
                          "clusters[0].endpoints[1].weight: Invalid value: 1001: must be between 1 "
                          "and 1000, inclusive",
                          "clusters[0].endpoints[1].labels: Invalid value: \"-bad\": must be a "
                          "valid label key",
                          "clusters[0].endpoints[2]: Duplicate value: \"127.0.0.3\""));
}

TEST(ProxyConfigValidationTest, SubsetsFollowTheMeshServiceRules) {
  ProxyConfig c = baseConfig();
  cluster(c).subsets.push_back({.name = "v2", .labels = {}});
  EXPECT_THAT(errorsOf(c), ElementsAre("clusters[0].subsets[1].name: Duplicate value: \"v2\"",
                                       "clusters[0].subsets[1].labels: Required value"));
}

TEST(ProxyConfigValidationTest, TrafficPolicyFollowsTheMeshServiceRules) {
  ProxyConfig c = baseConfig();
  ClusterConfig& cl = cluster(c);
  cl.loadBalancer.policy = "RingHash";
  cl.healthCheck = api::HealthCheck{.path = "health",
                                    .interval = "1s",
                                    .timeout = "2s",
                                    .healthyThreshold = {},
                                    .unhealthyThreshold = 0};
  cl.outlierDetection = api::OutlierDetection{
      .consecutiveErrors = {}, .interval = "0s", .baseEjectionTime = {}, .maxEjectionPercent = 101};
  cl.circuitBreaker.maxRetries = 0;
  cl.retries =
      api::Retries{.attempts = 11, .perTryTimeout = {}, .retryOn = {"5xx", "5xx"}, .backoff = {}};
  EXPECT_THAT(
      errorsOf(c),
      ElementsAre(
          "clusters[0].loadBalancer.hash: Required value: policy RingHash needs a hash key",
          "clusters[0].healthCheck.path: Invalid value: \"health\": must start with \"/\"",
          "clusters[0].healthCheck.timeout: Invalid value: \"2s\": must not be longer than "
          "interval (1s)",
          "clusters[0].healthCheck.unhealthyThreshold: Invalid value: 0: must be between 1 and "
          "100, inclusive",
          "clusters[0].outlierDetection.interval: Invalid value: \"0s\": must be greater than 0",
          "clusters[0].outlierDetection.maxEjectionPercent: Invalid value: 101: must be between 0 "
          "and 100, inclusive",
          "clusters[0].circuitBreaker.maxRetries: Invalid value: 0: must be between 1 and "
          "1000000, inclusive",
          "clusters[0].retries.attempts: Invalid value: 11: must be between 1 and 10, inclusive",
          "clusters[0].retries.retryOn[1]: Duplicate value: \"5xx\""));
}

TEST(ProxyConfigValidationTest, ClusterDurationsAndPool) {
  ProxyConfig c = baseConfig();
  ClusterConfig& cl = cluster(c);
  cl.timeout = Millis(-5);
  cl.connectTimeout = 0s;
  cl.pool.maxIdlePerEndpoint = 10001;
  cl.pool.idleTimeout = 0s;
  EXPECT_THAT(errorsOf(c),
              ElementsAre("clusters[0].timeout: Invalid value: \"-5ms\": must not be negative",
                          "clusters[0].connectTimeout: Invalid value: \"0s\": must be greater "
                          "than 0",
                          "clusters[0].pool.maxIdlePerEndpoint: Invalid value: 10001: must be "
                          "between 0 and 10000, inclusive",
                          "clusters[0].pool.idleTimeout: Invalid value: \"0s\": must be greater "
                          "than 0"));
}

TEST(ProxyConfigValidationTest, ZeroClusterTimeoutMeansNone) {
  ProxyConfig c = baseConfig();
  cluster(c).timeout = 0s;
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, UpstreamTlsNeedsAServerNameAndAReadableCaFile) {
  testing::TempTlsDir dir;
  const std::string a = dir.writeKeyAndCertificate("a");
  ProxyConfig c = baseConfig();
  cluster(c).tls = UpstreamTls{.serverName = "", .caFile = dir.path("nope.crt")};
  c.clusters.push_back(cluster(c));
  c.clusters[1].name = "second";
  c.clusters[1].tls = UpstreamTls{.serverName = "bad_name", .caFile = a + ".crt"};
  c.clusters.push_back(cluster(c));
  c.clusters[2].name = "third";
  c.clusters[2].tls = UpstreamTls{.serverName = "10.0.0.1", .caFile = {}};
  EXPECT_THAT(errorsOf(c),
              ElementsAre("clusters[0].tls.serverName: Required value",
                          "clusters[0].tls.caFile: Invalid value: \"" + dir.path("nope.crt") +
                              "\": cannot read: No such file or directory",
                          "clusters[1].tls.serverName: Invalid value: \"bad_name\": must be a DNS "
                          "name or an IP address"));
}

TEST(ProxyConfigValidationTest, AMeshClusterNamesASpiffeIdAndSetsNoOtherTls) {
  ProxyConfig c = baseConfig();
  cluster(c).meshIdentity = "spiffe://cluster.local/ns/shop/sa/orders";
  EXPECT_THAT(errorsOf(c), ElementsAre());
  c.clusters.push_back(cluster(c));
  c.clusters[1].name = "second";
  c.clusters[1].meshIdentity = "https://orders.shop";
  c.clusters.push_back(cluster(c));
  c.clusters[2].name = "third";
  c.clusters[2].tls = UpstreamTls{.serverName = "orders.shop", .caFile = {}};
  EXPECT_THAT(errorsOf(c),
              ElementsAre("clusters[1].meshIdentity: Invalid value: \"https://orders.shop\": must "
                          "be spiffe://<trust-domain>/ns/<ns>/sa/<sa>",
                          "clusters[2].meshIdentity: Forbidden: a mesh cluster's TLS is mTLS with "
                          "the workload identity; it may not also set tls"));
}

TEST(ProxyConfigValidationTest, TimeoutRules) {
  ProxyConfig c = baseConfig();
  c.timeouts = {.headerRead = 0s, .idle = 0s, .request = Millis(-1), .drain = Millis(-1000)};
  EXPECT_THAT(errorsOf(c),
              ElementsAre("timeouts.headerRead: Invalid value: \"0s\": must be greater than 0",
                          "timeouts.idle: Invalid value: \"0s\": must be greater than 0",
                          "timeouts.request: Invalid value: \"-1ms\": must not be negative",
                          "timeouts.drain: Invalid value: \"-1s\": must not be negative"));
}

TEST(ProxyConfigValidationTest, ZeroRequestTimeoutAndZeroDrainAreAllowed) {
  ProxyConfig c = baseConfig();
  c.timeouts.request = 0s;
  c.timeouts.drain = 0s;
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, LimitRules) {
  ProxyConfig c = baseConfig();
  c.limits = {.maxRequestLineBytes = 10,
              .maxHeaderBytes = 100,
              .maxHeaders = 0,
              .maxBodyBytes = 0,
              .maxRetryBufferBytes = 100u << 20};
  EXPECT_THAT(errorsOf(c),
              ElementsAre("limits.maxRequestLineBytes: Invalid value: 10: must be between 64 and "
                          "1048576, inclusive",
                          "limits.maxHeaderBytes: Invalid value: 100: must be between 1024 and "
                          "16777216, inclusive",
                          "limits.maxHeaders: Invalid value: 0: must be between 1 and 10000, "
                          "inclusive",
                          "limits.maxBodyBytes: Invalid value: 0: must be between 1 and "
                          "1099511627776, inclusive",
                          "limits.maxRetryBufferBytes: Invalid value: 104857600: must be between "
                          "0 and 67108864, inclusive"));
}

TEST(ProxyConfigValidationTest, BufferedBodyBudgetMustHoldOneRetryBuffer) {
  ProxyConfig c = baseConfig();
  c.limits.maxRetryBufferBytes = 64 * 1024;
  c.limits.maxBufferedBodyBytes = 1024;
  EXPECT_THAT(errorsOf(c), ElementsAre("limits.maxBufferedBodyBytes: Invalid value: 1024: must not "
                                       "be smaller than maxRetryBufferBytes (65536)"));
  c.limits.maxBufferedBodyBytes = 0;
  EXPECT_THAT(errorsOf(c), ElementsAre("limits.maxBufferedBodyBytes: Invalid value: 0: must be "
                                       "between 1 and 1099511627776, inclusive"));
  c.limits.maxBufferedBodyBytes = 64 * 1024;
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, HeaderLimitMustHoldTheRequestLine) {
  ProxyConfig c = baseConfig();
  c.limits.maxRequestLineBytes = 8192;
  c.limits.maxHeaderBytes = 4096;
  EXPECT_THAT(errorsOf(c), ElementsAre("limits.maxHeaderBytes: Invalid value: 4096: must not be "
                                       "smaller than maxRequestLineBytes (8192)"));
}

TEST(ProxyConfigValidationTest, EnabledAccessLogNeedsAnAbsolutePath) {
  ProxyConfig c = baseConfig();
  c.accessLog = {.enabled = true, .path = "proxy.log"};
  EXPECT_THAT(errorsOf(c), ElementsAre("accessLog.path: Invalid value: \"proxy.log\": must be an "
                                       "absolute path"));
  c.accessLog.path = "";
  EXPECT_THAT(errorsOf(c), ElementsAre("accessLog.path: Required value"));
  c.accessLog.enabled = false;
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, ErrorsComeInDocumentOrder) {
  ProxyConfig c = baseConfig();
  c.accessLog = {.enabled = true, .path = "x"};
  c.timeouts.idle = 0s;
  cluster(c).connectTimeout = 0s;
  rule(c, 1).backends[0].service = "nope";
  c.listeners[0].address = "x";
  c.admin.address = "y";
  const auto errors = validateProxyConfig(c);
  std::vector<std::string> fields;
  for (const auto& e : errors)
    fields.push_back(e.field);
  EXPECT_THAT(fields, ElementsAre("admin.address", "listeners[0].address",
                                  "routes[0].spec.rules[1].backends[0].service",
                                  "clusters[0].connectTimeout", "timeouts.idle", "accessLog.path"));
}

}  // namespace
}  // namespace meshgate::dp

namespace meshgate::dp {
namespace {

TEST(ProxyConfigValidationTest, RoutesValidatedBeforeOnlyHaveTheirClusterReferencesChecked) {
  ProxyConfig c = baseConfig();
  // A check only the full route pass makes: a duplicate route name. (Contrived: such routes
  // never serve; it shows which pass ran.)
  c.routes.push_back(c.routes[0]);
  const std::vector<api::ApiRoute> servingWithDuplicate = c.routes;
  EXPECT_THAT(errorsOf(c), ::testing::Contains(::testing::HasSubstr("Duplicate value")));
  EXPECT_THAT(validateProxyConfig(c, &servingWithDuplicate), IsEmpty())
      << "the same routes as the ones serving: not validated again";
  // An endpoint-only change still resolves every backend against the new clusters.
  c.clusters[0].name = "renamed";
  const auto errors = validateProxyConfig(c, &servingWithDuplicate);
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0].toString(), ::testing::HasSubstr("no cluster of that name"));
}

}  // namespace
}  // namespace meshgate::dp
