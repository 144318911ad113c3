// Tests of validateProxyConfig for what relays bytes instead of routing requests: TCP listeners
// (listeners[].tcp), TLS passthrough routes (listeners[].tlsPassthrough) and the mesh section's
// TCP ports, each rule with its exact message.
#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/config/proxy_config_validation.h"
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

ListenerConfig tcpListener(api::TcpProxyConfig tcp) {
  return {.name = "db", .address = "127.0.0.1", .port = 5432, .tls = {}, .tcp = std::move(tcp)};
}

TEST(ProxyConfigValidationTest, TcpListenerToAnExistingClusterIsValid) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back(
      tcpListener({.cluster = "shop", .namespace_ = "", .port = 9000, .idleTimeout = 1h}));
  // A namespace-less cluster is seen from every namespace, as by routes.
  c.listeners.push_back(
      tcpListener({.cluster = "shop", .namespace_ = "data", .port = 1, .idleTimeout = 1s}));
  c.listeners.back().name = "db2";
  c.listeners.back().port = 5433;
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, TcpListenerRules) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back(
      tcpListener({.cluster = "shopx", .namespace_ = "", .port = 0, .idleTimeout = 0s}));
  c.listeners.push_back(
      tcpListener({.cluster = "", .namespace_ = "Data", .port = 80, .idleTimeout = -1s}));
  c.listeners.back().name = "db2";
  c.listeners.back().port = 5433;
  EXPECT_THAT(
      errorsOf(c),
      ElementsAre(
          "listeners[1].tcp.cluster: Not found: \"shopx\": no cluster of that name",
          "listeners[1].tcp.port: Invalid value: 0: must be between 1 and 65535, inclusive",
          "listeners[1].tcp.idleTimeout: Invalid value: \"0s\": must be greater than 0",
          "listeners[2].tcp.namespace: Invalid value: \"Data\": must be a lowercase RFC 1123 "
          "label (a-z, 0-9, '-', starting and ending with an alphanumeric), at most 63 characters",
          "listeners[2].tcp.cluster: Required value",
          "listeners[2].tcp.idleTimeout: Invalid value: \"-1s\": must be greater than 0"));
}

TEST(ProxyConfigValidationTest, TcpListenerSeesOnlyClustersOfItsNamespace) {
  ProxyConfig c = baseConfig();
  ClusterConfig namespaced = cluster(c);
  namespaced.name = "pg";
  namespaced.namespace_ = "data";
  namespaced.subsets.clear();
  c.clusters.push_back(namespaced);
  c.listeners.push_back(
      tcpListener({.cluster = "pg", .namespace_ = "data", .port = 5432, .idleTimeout = 1s}));
  EXPECT_THAT(errorsOf(c), IsEmpty());
  c.listeners.back().tcp->namespace_ = "";
  EXPECT_THAT(errorsOf(c),
              ElementsAre("listeners[1].tcp.cluster: Not found: \"pg\": no cluster of that name"));
}

TEST(ProxyConfigValidationTest, TcpListenerMayNotTerminateTls) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back(
      tcpListener({.cluster = "shop", .namespace_ = "", .port = 9000, .idleTimeout = 1s}));
  c.listeners.back().tls = ListenerTls{.certificates = {}, .minVersion = "TLSv1.2"};
  EXPECT_THAT(errorsOf(c),
              ElementsAre("listeners[1].tls.certificates: Required value",
                          "listeners[1].tcp: Forbidden: a TCP listener relays the bytes it "
                          "receives; it may not also terminate tls"));
}

TEST(ProxyConfigValidationTest, TcpListenerClusterMayNotExpectTls) {
  ProxyConfig c = baseConfig();
  cluster(c).tls = UpstreamTls{.serverName = "shop.internal", .caFile = {}};
  c.listeners.push_back(
      tcpListener({.cluster = "shop", .namespace_ = "", .port = 9000, .idleTimeout = 1s}));
  EXPECT_THAT(errorsOf(c), ElementsAre("listeners[1].tcp.cluster: Forbidden: a TCP listener does "
                                       "not originate TLS: its cluster may not set tls or "
                                       "meshIdentity"));
}

TEST(ProxyConfigValidationTest, MeshListenersNeverProxyTcpToACluster) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back(
      tcpListener({.cluster = "shop", .namespace_ = "", .port = 9000, .idleTimeout = 1s}));
  c.listeners.back().role = api::ListenerRole::kMeshOutbound;
  EXPECT_THAT(errorsOf(c), ElementsAre("listeners[1].tcp: Forbidden: mesh listeners relay TCP by "
                                       "original destination, not to one cluster"));
}

ListenerConfig passthroughListener(std::vector<api::TlsPassthroughRoute> routes) {
  return {.name = "edge",
          .address = "127.0.0.1",
          .port = 8443,
          .tls = {},
          .tcp = {},
          .tlsPassthrough = std::move(routes)};
}

TEST(ProxyConfigValidationTest, TlsPassthroughRoutesToExistingClustersAreValid) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back(passthroughListener(
      {{.serverNames = {"db.example.com", "*.db.example.com"}, .cluster = "shop", .port = 9000},
       {.serverNames = {"mq.example.com"}, .cluster = "shop", .namespace_ = "data", .port = 1}}));
  EXPECT_THAT(errorsOf(c), IsEmpty());
}

TEST(ProxyConfigValidationTest, TlsPassthroughRules) {
  ProxyConfig c = baseConfig();
  c.listeners.push_back(
      passthroughListener({{.serverNames = {"db.example.com", "DB.example.com", "db..example.com"},
                            .cluster = "shopx",
                            .port = 0,
                            .idleTimeout = 0s},
                           {.serverNames = {}, .cluster = "", .port = 80},
                           {.serverNames = {"db.example.com"}, .cluster = "shop", .port = 80}}));
  EXPECT_THAT(
      errorsOf(c),
      ElementsAre(
          ::testing::StartsWith("listeners[1].tlsPassthrough[0].serverNames[1]: Invalid value: "
                                "\"DB.example.com\": must be a lowercase RFC 1123 hostname"),
          ::testing::StartsWith("listeners[1].tlsPassthrough[0].serverNames[2]: Invalid value: "
                                "\"db..example.com\""),
          "listeners[1].tlsPassthrough[0].cluster: Not found: \"shopx\": no cluster of that name",
          "listeners[1].tlsPassthrough[0].port: Invalid value: 0: must be between 1 and 65535, "
          "inclusive",
          "listeners[1].tlsPassthrough[0].idleTimeout: Invalid value: \"0s\": must be greater "
          "than 0",
          "listeners[1].tlsPassthrough[1].serverNames: Required value",
          "listeners[1].tlsPassthrough[1].cluster: Required value",
          "listeners[1].tlsPassthrough[2].serverNames[0]: Duplicate value: \"db.example.com\""));
}

TEST(ProxyConfigValidationTest, TlsPassthroughIsNotTcpNotMeshAndRelaysNoTlsOfItsOwn) {
  ProxyConfig c = baseConfig();
  cluster(c).tls = UpstreamTls{.serverName = "shop.internal", .caFile = {}};
  c.listeners.push_back(
      passthroughListener({{.serverNames = {"db.example.com"}, .cluster = "shop", .port = 9000}}));
  c.listeners.back().tcp =
      api::TcpProxyConfig{.cluster = "shop", .namespace_ = "", .port = 1, .idleTimeout = 1s};
  c.listeners.back().role = api::ListenerRole::kMeshInbound;
  const auto errors = errorsOf(c);
  EXPECT_THAT(errors, ::testing::Contains("listeners[1].tlsPassthrough: Forbidden: a listener "
                                          "relays every connection to one cluster (tcp) or picks "
                                          "by server name, not both"));
  EXPECT_THAT(errors, ::testing::Contains(
                          "listeners[1].tlsPassthrough: Forbidden: gateway listeners only"));
  EXPECT_THAT(errors, ::testing::Contains(
                          "listeners[1].tlsPassthrough[0].cluster: Forbidden: a passthrough relays "
                          "the client's own TLS: its cluster may not set tls or meshIdentity"));
}

TEST(ProxyConfigValidationTest, AMeshPortIsHttpOrTcpNotBoth) {
  ProxyConfig c = baseConfig();
  c.listeners.clear();  // a sidecar adds its own
  c.mesh = api::MeshConfig{.identity = "spiffe://cluster.local/ns/default/sa/web",
                           .trustDomain = "cluster.local",
                           .outbound = {{.name = "shop",
                                         .namespace_ = "",
                                         .addresses = {"10.0.0.9"},
                                         .ports = {8080},
                                         .tcpPorts = {5432, 8080, 0},
                                         .hosts = {},
                                         .identity = "",
                                         .allowed = true}},
                           .inbound = {{.port = 5432,
                                        .allow = std::nullopt,
                                        .service = "default/shop",
                                        .http2 = true,
                                        .tcp = true}}};
  EXPECT_THAT(
      errorsOf(c),
      ElementsAre(
          "mesh.outbound[0].tcpPorts[1]: Duplicate value: 8080",
          "mesh.outbound[0].tcpPorts[2]: Invalid value: 0: must be between 1 and 65535, inclusive",
          "mesh.inbound[0].tcp: Invalid value: true: a port is TCP or HTTP/2, not both (http2 is "
          "set)"));
}

}  // namespace
}  // namespace meshgate::dp
