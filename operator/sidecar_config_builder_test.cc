// Informer caches → a sidecar's snapshot: every valid MeshService with HTTP ports as an outbound
// service (cluster IPs, ports, host names, the identity its endpoints present, whether the caller
// may call it), clusters only for what the caller may call, inbound ports of the caller's own
// MeshServices (one owner per target port: the oldest), and versions that follow content and
// generations.
#include "operator/sidecar_config_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/mesh_service_codec.h"
#include "api/proxy_config_codec.h"
#include "operator/mesh_service_cluster.h"
#include "operator/mesh_service_reconciler.h"

namespace meshgate::op {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const api::WorkloadIdentity kCart{
    .trustDomain = "cluster.local", .namespace_ = "shop", .serviceAccount = "cart"};

class SidecarConfigBuilderTest : public ::testing::Test {
 protected:
  SidecarConfigBuilderTest() {
    endpointSlices_.addIndexer(kEndpointSlicesByService, endpointSliceServiceIndex);
  }

  void put(kube::ThreadSafeStore& store, json object) {
    const std::string key = kube::keyOf(object);
    store.add(key, std::make_shared<const json>(std::move(object)));
  }

  void meshService(const std::string& ns, const std::string& name, json spec, int generation = 1,
                   const std::string& created = "2026-01-01T00:00:00Z") {
    put(meshServices_, {{"apiVersion", "meshgate.io/v1alpha1"},
                        {"kind", "MeshService"},
                        {"metadata",
                         {{"name", name},
                          {"namespace", ns},
                          {"uid", ns + "-" + name},
                          {"generation", generation},
                          {"creationTimestamp", created}}},
                        {"spec", std::move(spec)}});
  }

  // The Service the operator made for a MeshService, as the managed-by informer caches it.
  void service(const std::string& ns, const std::string& name, json spec) {
    put(services_, {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata",
                     {{"name", name},
                      {"namespace", ns},
                      {"labels", {{"app.kubernetes.io/managed-by", "meshgate"}}}}},
                    {"spec", std::move(spec)}});
  }

  static json httpPort(int port, std::optional<int> targetPort = std::nullopt) {
    json out = {{"name", "p" + std::to_string(port)}, {"port", port}};
    if (targetPort) out["targetPort"] = *targetPort;
    return out;
  }

  static json spec(json ports, json extra = json::object()) {
    json out = {{"selector", {{"app", "x"}}}, {"ports", std::move(ports)}};
    for (auto& [key, value] : extra.items())
      out[key] = value;
    return out;
  }

  BuiltSnapshot build(const api::WorkloadIdentity& caller = kCart) {
    return buildSidecarSnapshot({meshServices_, endpointSlices_, pods_, services_}, caller);
  }

  static const api::MeshOutboundService* outbound(const BuiltSnapshot& snapshot,
                                                  const std::string& ns, const std::string& name) {
    for (const auto& o : snapshot.config.mesh->outbound)
      if (o.namespace_ == ns && o.name == name) return &o;
    return nullptr;
  }

  static std::vector<std::string> clusterNames(const BuiltSnapshot& snapshot) {
    std::vector<std::string> out;
    for (const auto& c : snapshot.config.clusters)
      out.push_back(c.namespace_ + "/" + c.name);
    return out;
  }

  kube::ThreadSafeStore meshServices_, endpointSlices_, pods_, services_;
};

TEST_F(SidecarConfigBuilderTest, EveryMeshServiceIsAnOutboundServiceWithAddressesPortsAndHosts) {
  meshService("shop", "web",
              spec({httpPort(80, 8080),
                    {{"name", "grpc"}, {"port", 9090}, {"protocol", "HTTP2"}},
                    {{"name", "db"}, {"port", 5432}, {"protocol", "TCP"}},
                    {{"name", "h"}, {"port", 81}, {"protocol", "HTTP"}}}),
              3);
  service("shop", "web", {{"clusterIP", "10.96.0.10"}, {"clusterIPs", {"10.96.0.10", "fd00::10"}}});
  meshService(
      "pay", "payments",
      spec({httpPort(80)}, {{"serviceAccount", "payer"}, {"mtls", {{"mode", "Disabled"}}}}));
  service("pay", "payments", {{"clusterIP", "10.96.0.20"}});
  meshService("pay", "ledger", spec({httpPort(80)}, {{"mtls", {{"mode", "Strict"}}}}));
  service("pay", "ledger", {{"clusterIP", "None"}, {"clusterIPs", {"None"}}});

  const auto snapshot = build();
  ASSERT_TRUE(snapshot.config.mesh.has_value());
  const auto& mesh = *snapshot.config.mesh;
  EXPECT_EQ(mesh.identity, "spiffe://cluster.local/ns/shop/sa/cart");
  EXPECT_EQ(mesh.trustDomain, "cluster.local");
  ASSERT_EQ(mesh.outbound.size(), 3u);
  // By namespace, then name.
  EXPECT_EQ(mesh.outbound[0].name, "ledger");
  EXPECT_EQ(mesh.outbound[1].name, "payments");
  EXPECT_EQ(mesh.outbound[2].name, "web");

  const auto& web = mesh.outbound[2];
  EXPECT_EQ(web.namespace_, "shop");
  EXPECT_THAT(web.addresses, ElementsAre("10.96.0.10", "fd00::10"));
  EXPECT_THAT(web.ports, ElementsAre(80, 81, 9090)) << "HTTP and HTTP2";
  EXPECT_THAT(web.tcpPorts, ElementsAre(5432));
  EXPECT_THAT(mesh.outbound[1].tcpPorts, IsEmpty());
  EXPECT_THAT(web.hosts,
              ElementsAre("web.shop.svc.cluster.local", "web.shop.svc", "web.shop", "web"))
      << "the caller's own namespace: the bare name too";
  EXPECT_EQ(web.identity, "spiffe://cluster.local/ns/shop/sa/web") << "serviceAccount defaults";
  EXPECT_TRUE(web.allowed);

  const auto& payments = mesh.outbound[1];
  EXPECT_THAT(payments.addresses, ElementsAre("10.96.0.20")) << "clusterIP without clusterIPs";
  EXPECT_THAT(payments.hosts,
              ElementsAre("payments.pay.svc.cluster.local", "payments.pay.svc", "payments.pay"));
  EXPECT_EQ(payments.identity, "") << "mtls Disabled: plaintext";
  EXPECT_EQ(mesh.outbound[0].identity, "spiffe://cluster.local/ns/pay/sa/ledger");
  EXPECT_THAT(mesh.outbound[0].addresses, IsEmpty()) << "a headless Service has no address";

  EXPECT_THAT(snapshot.config.listeners, IsEmpty());
  EXPECT_THAT(snapshot.config.routes, IsEmpty());
  EXPECT_THAT(snapshot.config.secrets, IsEmpty());
  EXPECT_EQ(snapshot.contents.generations.at("MeshService/shop/web"), 3);
  EXPECT_EQ(snapshot.config.version, snapshot.version);
}

TEST_F(SidecarConfigBuilderTest, InvalidMeshServicesAreLeftOutAndTcpOnlyOnesKept) {
  meshService("shop", "valid", spec({httpPort(80)}));
  meshService("shop", "invalid", spec({httpPort(80)}, {{"loadBalancer", {{"policy", "Fastest"}}}}));
  meshService("shop", "undecodable", {{"ports", "eighty"}});
  meshService("shop", "database", spec({{{"name", "pg"}, {"port", 5432}, {"protocol", "TCP"}}}));
  const auto snapshot = build();
  ASSERT_EQ(snapshot.config.mesh->outbound.size(), 2u);
  EXPECT_EQ(snapshot.config.mesh->outbound[0].name, "database");
  EXPECT_THAT(snapshot.config.mesh->outbound[0].ports, IsEmpty());
  EXPECT_THAT(snapshot.config.mesh->outbound[0].tcpPorts, ElementsAre(5432));
  EXPECT_EQ(snapshot.config.mesh->outbound[1].name, "valid");
  EXPECT_THAT(clusterNames(snapshot), ElementsAre("shop/database", "shop/valid"));
  EXPECT_EQ(snapshot.contents.generations.count("MeshService/shop/invalid"), 0u);
}

TEST_F(SidecarConfigBuilderTest, OnlyServicesTheCallerMayCallBringTheirClusterAndEndpoints) {
  meshService("shop", "web",
              spec({httpPort(80, 8080)},
                   {{"endpoints", {{{"address", "10.1.0.1"}}}},
                    {"authorization", {{"allow", {{{"serviceAccount", "cart"}}}}}},
                    {"loadBalancer", {{"policy", "LeastRequest"}}},
                    {"subsets", {{{"name", "v2"}, {"labels", {{"version", "v2"}}}}}}}));
  meshService("shop", "admin",
              spec({httpPort(80)}, {{"endpoints", {{{"address", "10.1.0.66"}}}},
                                    {"authorization", {{"allow", json::array()}}}}));
  meshService("ops", "tools",
              spec({httpPort(80)}, {{"endpoints", {{{"address", "10.1.0.2"}}}},
                                    {"authorization", {{"allow", {{{"namespace", "shop"}}}}}}}));
  meshService("ops", "open", spec({httpPort(80)}, {{"endpoints", {{{"address", "10.1.0.3"}}}}}));
  put(pods_,
      {{"metadata", {{"name", "web-5"}, {"namespace", "shop"}, {"labels", {{"version", "v2"}}}}}});
  put(endpointSlices_,
      {{"metadata",
        {{"name", "web-abc"},
         {"namespace", "shop"},
         {"labels", {{"kubernetes.io/service-name", "web"}}}}},
       {"endpoints",
        {{{"addresses", {"10.244.0.5"}},
          {"targetRef", {{"kind", "Pod"}, {"name", "web-5"}, {"namespace", "shop"}}}}}}});
  put(endpointSlices_, {{"metadata",
                         {{"name", "admin-abc"},
                          {"namespace", "shop"},
                          {"labels", {{"kubernetes.io/service-name", "admin"}}}}},
                        {"endpoints", {{{"addresses", {"10.244.0.66"}}}}}});

  const auto cart = build();
  EXPECT_TRUE(outbound(cart, "shop", "web")->allowed) << "its serviceAccount, in web's namespace";
  EXPECT_FALSE(outbound(cart, "shop", "admin")->allowed) << "an empty allow list: nobody";
  EXPECT_TRUE(outbound(cart, "ops", "tools")->allowed) << "any account of namespace shop";
  EXPECT_TRUE(outbound(cart, "ops", "open")->allowed) << "no authorization: anyone of the mesh";
  EXPECT_THAT(clusterNames(cart), ElementsAre("ops/open", "ops/tools", "shop/web"));
  // What may not be called leaves no trace of its endpoints.
  const std::string text = api::encodeProxyConfig(cart.config).dump();
  EXPECT_EQ(text.find("10.1.0.66"), std::string::npos);
  EXPECT_EQ(text.find("10.244.0.66"), std::string::npos);

  // The cluster is the one every proxy gets for the MeshService (the gateway's too): policy,
  // static and discovered endpoints with their pods' labels, subsets.
  const auto decoded = api::decodeMeshService(*meshServices_.get("shop/web"));
  ASSERT_TRUE(decoded.ok());
  const auto expected = meshServiceCluster(*decoded.object, endpointSlices_, pods_);
  const auto& web = cart.config.clusters[2];
  api::ProxyConfig got;
  got.clusters = {web};
  api::ProxyConfig want;
  want.clusters = {expected};
  EXPECT_EQ(api::encodeProxyConfig(got), api::encodeProxyConfig(want));
  ASSERT_EQ(web.endpoints.size(), 2u);
  EXPECT_EQ(web.endpoints[1].address, "10.244.0.5");
  EXPECT_EQ(web.endpoints[1].labels.at("version"), "v2");
  EXPECT_EQ(web.loadBalancer.policy, "LeastRequest");

  // Another account of the same namespace may not call web; one of another namespace may not call
  // tools either.
  const auto billing =
      build({.trustDomain = "cluster.local", .namespace_ = "shop", .serviceAccount = "billing"});
  EXPECT_FALSE(outbound(billing, "shop", "web")->allowed);
  EXPECT_THAT(clusterNames(billing), ElementsAre("ops/open", "ops/tools"));
  const auto stranger =
      build({.trustDomain = "cluster.local", .namespace_ = "web", .serviceAccount = "cart"});
  EXPECT_THAT(clusterNames(stranger), ElementsAre("ops/open"));
}

TEST_F(SidecarConfigBuilderTest, InboundPortsAreTheTargetPortsOfTheCallersOwnServices) {
  meshService("shop", "cart",
              spec({httpPort(80, 8080),
                    {{"name", "raw"}, {"port", 81}, {"targetPort", 8081}, {"protocol", "TCP"}}},
                   {{"mtls", {{"mode", "Strict"}}},
                    {"authorization", {{"allow", {{{"namespace", "front"}}}}}}}));
  meshService("shop", "cart-admin", spec({httpPort(9000)}, {{"serviceAccount", "cart"}}));
  meshService("shop", "billing", spec({httpPort(7000)}));
  meshService("other", "cart", spec({httpPort(6000)}));
  meshService("shop", "locked",
              spec({httpPort(5000)},
                   {{"serviceAccount", "cart"}, {"authorization", {{"allow", json::array()}}}}));

  const auto snapshot = build();
  const auto& inbound = snapshot.config.mesh->inbound;
  ASSERT_EQ(inbound.size(), 4u);
  EXPECT_EQ(inbound[0].port, 5000);
  ASSERT_TRUE(inbound[0].allow.has_value());
  EXPECT_THAT(*inbound[0].allow, IsEmpty()) << "present and empty: nobody, not anyone";
  EXPECT_EQ(inbound[1].port, 8080);
  EXPECT_EQ(inbound[1].mtlsMode, "Strict");
  EXPECT_EQ(inbound[1].service, "shop/cart");
  EXPECT_FALSE(inbound[1].tcp);
  ASSERT_TRUE(inbound[1].allow.has_value());
  EXPECT_THAT(*inbound[1].allow, ElementsAre(api::AuthorizationRule{.namespace_ = "front"}));
  EXPECT_EQ(inbound[2].port, 8081) << "the TCP port's targetPort";
  EXPECT_TRUE(inbound[2].tcp);
  EXPECT_EQ(inbound[2].mtlsMode, "Strict");
  EXPECT_EQ(inbound[2].allow, inbound[1].allow) << "the MeshService's authorization";
  EXPECT_EQ(inbound[3].port, 9000) << "no targetPort: the port";
  EXPECT_EQ(inbound[3].mtlsMode, "Permissive") << "the default of docs/API.md";
  EXPECT_EQ(inbound[3].allow, std::nullopt) << "no authorization: anyone of the mesh";
  EXPECT_EQ(inbound[3].service, "shop/cart-admin");

  // billing serves 7000, not cart.
  const auto billing =
      build({.trustDomain = "cluster.local", .namespace_ = "shop", .serviceAccount = "billing"});
  ASSERT_EQ(billing.config.mesh->inbound.size(), 1u);
  EXPECT_EQ(billing.config.mesh->inbound[0].port, 7000);
}

TEST_F(SidecarConfigBuilderTest, Http2PortsAreCalledAndServedOverHttp2) {
  meshService(
      "shop", "cart",
      spec({httpPort(80, 8080),
            {{"name", "grpc"}, {"port", 90}, {"targetPort", 9090}, {"protocol", "HTTP2"}}}));
  const auto snapshot = build();
  const auto& inbound = snapshot.config.mesh->inbound;
  ASSERT_EQ(inbound.size(), 2u);
  EXPECT_EQ(inbound[0].port, 8080);
  EXPECT_FALSE(inbound[0].http2);
  EXPECT_EQ(inbound[1].port, 9090);
  EXPECT_TRUE(inbound[1].http2) << "the application is called over h2c";
  const auto cluster =
      std::find_if(snapshot.config.clusters.begin(), snapshot.config.clusters.end(),
                   [](const auto& c) { return c.name == "cart"; });
  ASSERT_NE(cluster, snapshot.config.clusters.end());
  EXPECT_THAT(cluster->http2Ports, ElementsAre(90)) << "service ports, as routes name them";
}

TEST_F(SidecarConfigBuilderTest, TwoServicesOnOneTargetPortKeepTheOldestThenTheFirstByName) {
  meshService(
      "shop", "b",
      spec({httpPort(80, 8080)}, {{"serviceAccount", "cart"}, {"mtls", {{"mode", "Strict"}}}}), 1,
      "2026-01-01T00:00:00Z");
  meshService("shop", "a", spec({httpPort(80, 8080)}, {{"serviceAccount", "cart"}}), 1,
              "2026-02-01T00:00:00Z");
  auto inbound = build().config.mesh->inbound;
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(inbound[0].service, "shop/b") << "the older one";
  EXPECT_EQ(inbound[0].mtlsMode, "Strict");

  meshService("shop", "a", spec({httpPort(80, 8080)}, {{"serviceAccount", "cart"}}), 1,
              "2026-01-01T00:00:00Z");
  inbound = build().config.mesh->inbound;
  ASSERT_EQ(inbound.size(), 1u);
  EXPECT_EQ(inbound[0].service, "shop/a") << "as old: the first by name";
  EXPECT_EQ(inbound[0].mtlsMode, "Permissive");
}

TEST_F(SidecarConfigBuilderTest, VersionFollowsContentGenerationsAndCaller) {
  meshService("shop", "web", spec({httpPort(80)}), 1);
  service("shop", "web", {{"clusterIP", "10.96.0.10"}});
  const auto first = build();
  EXPECT_EQ(build().version, first.version) << "equal caches, equal versions";

  meshService("shop", "web", spec({httpPort(80)}), 2);
  const auto newGeneration = build();
  EXPECT_NE(newGeneration.version, first.version);
  EXPECT_EQ(api::encodeProxyConfig(newGeneration.config)["mesh"],
            api::encodeProxyConfig(first.config)["mesh"])
      << "the same content: only the generation moved the version";

  service("shop", "web", {{"clusterIP", "10.96.0.11"}});
  EXPECT_NE(build().version, newGeneration.version) << "a new cluster IP";
  EXPECT_NE(build({.trustDomain = "cluster.local", .namespace_ = "shop", .serviceAccount = "other"})
                .version,
            build().version);
}

}  // namespace
}  // namespace meshgate::op
