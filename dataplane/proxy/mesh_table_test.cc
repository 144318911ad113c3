// MeshTable: lookups by original destination and by Host, inbound ports, and the authorization
// verdict for mTLS and plaintext callers — on a config expanded as the sidecar expands it.
#include "dataplane/proxy/mesh_table.h"

#include <gtest/gtest.h>

#include "dataplane/proxy/mesh_expansion.h"
#include "dataplane/proxy/snapshot.h"

namespace meshgate::dp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

ProxyConfig meshConfig() {
  ProxyConfig config;
  config.version = "v1";
  api::MeshConfig mesh;
  mesh.identity = "spiffe://cluster.local/ns/shop/sa/web";
  mesh.trustDomain = "cluster.local";
  mesh.outbound.push_back({.name = "orders",
                           .namespace_ = "shop",
                           .addresses = {"10.0.0.9"},
                           .ports = {8080, 80},
                           .hosts = {"orders.shop.svc.cluster.local", "orders"},
                           .identity = "spiffe://cluster.local/ns/shop/sa/orders",
                           .allowed = true});
  mesh.outbound.push_back({.name = "vault",
                           .namespace_ = "sec",
                           .addresses = {"10.0.0.10"},
                           .ports = {8200},
                           .hosts = {"vault.sec.svc.cluster.local"},
                           .identity = "spiffe://cluster.local/ns/sec/sa/vault",
                           .allowed = false});
  mesh.inbound.push_back({.port = 8080,
                          .mtlsMode = "Permissive",
                          .allow = std::vector<api::AuthorizationRule>{{.serviceAccount = "api"}},
                          .service = "shop/web"});
  mesh.inbound.push_back(
      {.port = 9090, .mtlsMode = "Strict", .allow = std::nullopt, .service = "shop/web"});
  config.mesh = mesh;
  ClusterConfig orders;
  orders.name = "orders";
  orders.namespace_ = "shop";
  orders.endpoints.push_back({.address = "10.244.0.7", .port = 8080, .weight = 1, .labels = {}});
  config.clusters.push_back(orders);
  expandMeshConfig(config, MeshListenAddresses{});
  return config;
}

class MeshTableTest : public ::testing::Test {
 protected:
  MeshTableTest() {
    auto built = Snapshot::build(meshConfig(), health_, stats_, clock_);
    if (!built) throw std::runtime_error(built.error());
    snapshot_ = std::move(*built);
  }
  const MeshTable& mesh() const { return *snapshot_->mesh(); }

  EndpointHealthRegistry health_;
  ProxyStats stats_;
  SteadyClock clock_;
  SnapshotPtr snapshot_;
};

TEST_F(MeshTableTest, FindsAServiceByClusterIpAndPortOnly) {
  const auto* target = mesh().outboundByAddress({asio::ip::make_address("10.0.0.9"), 8080});
  ASSERT_NE(target, nullptr);
  EXPECT_EQ(target->service, "shop/orders");
  EXPECT_EQ(target->identity, "spiffe://cluster.local/ns/shop/sa/orders");
  ASSERT_NE(target->rule, nullptr);
  EXPECT_EQ(mesh().outboundByAddress({asio::ip::make_address("10.0.0.9"), 9999}), nullptr);
  EXPECT_EQ(mesh().outboundByAddress({asio::ip::make_address("10.0.0.8"), 8080}), nullptr);
}

TEST_F(MeshTableTest, FindsAServiceByHostWithPortCaseAndTrailingDot) {
  EXPECT_NE(mesh().outboundByHost("orders.shop.svc.cluster.local:8080"), nullptr);
  EXPECT_NE(mesh().outboundByHost("ORDERS:8080"), nullptr);
  EXPECT_NE(mesh().outboundByHost("orders.shop.svc.cluster.local.:8080"), nullptr);
  // No port is port 80, which orders declares too.
  EXPECT_NE(mesh().outboundByHost("orders"), nullptr);
  EXPECT_EQ(mesh().outboundByHost("orders:9999"), nullptr);
  EXPECT_EQ(mesh().outboundByHost("billing:8080"), nullptr);
}

TEST_F(MeshTableTest, AServiceThisWorkloadMayNotCallHasNoRule) {
  const auto* target = mesh().outboundByAddress({asio::ip::make_address("10.0.0.10"), 8200});
  ASSERT_NE(target, nullptr);
  EXPECT_EQ(target->rule, nullptr);
}

TEST_F(MeshTableTest, InboundPortsCarryTheirModeAndRule) {
  const auto* permissive = mesh().inbound(8080);
  ASSERT_NE(permissive, nullptr);
  EXPECT_EQ(permissive->mode, MtlsMode::kPermissive);
  EXPECT_NE(permissive->rule, nullptr);
  EXPECT_EQ(mesh().inbound(9090)->mode, MtlsMode::kStrict);
  EXPECT_EQ(mesh().inbound(7070), nullptr);
}

TEST_F(MeshTableTest, AdmitsByAuthorizationAndPlaintextOnlyWhereAnyoneMay) {
  const auto& restricted = *mesh().inbound(8080);
  EXPECT_TRUE(mesh().admits(restricted, "spiffe://cluster.local/ns/shop/sa/api"));
  EXPECT_FALSE(mesh().admits(restricted, "spiffe://cluster.local/ns/shop/sa/web"));
  EXPECT_FALSE(mesh().admits(restricted, "spiffe://other.domain/ns/shop/sa/api"));
  EXPECT_FALSE(mesh().admits(restricted, std::nullopt));
  const auto& open = *mesh().inbound(9090);
  EXPECT_TRUE(mesh().admits(open, "spiffe://cluster.local/ns/dev/sa/anyone"));
  EXPECT_TRUE(mesh().admits(open, std::nullopt));
  EXPECT_FALSE(mesh().admits(open, "not-a-spiffe-id"));
}

TEST_F(MeshTableTest, WithoutAnIdentityMeshClustersHaveNoTlsButKeepTheirExpectedPeer) {
  // Built without a workload identity: a call to orders must never go out in plaintext.
  const auto* target = mesh().outboundByAddress({asio::ip::make_address("10.0.0.9"), 8080});
  const Cluster& cluster = snapshot_->clusters()[target->rule->backends.front().cluster];
  EXPECT_EQ(cluster.tls, nullptr);
  EXPECT_EQ(cluster.peerIdentity, "spiffe://cluster.local/ns/shop/sa/orders");
}

}  // namespace
}  // namespace meshgate::dp
