// The publisher: a burst of changes is one rebuild, an unchanged build publishes nothing, an
// endpoint-only burst reuses the routes, published versions are remembered with their contents,
// and a proxy that holds a recent version gets a delta. Sidecar snapshots are kept per identity
// while a session holds them, rebuilt only by what they read, and count in no Programmed verdict.
#include "operator/config_publisher.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "base/testing/eventually.h"

#include "api/route_conflicts.h"
#include "operator/api_route_reconciler.h"
#include "operator/dataplane_status.h"
#include "operator/mesh_service_reconciler.h"

namespace meshgate::op {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using meshgate::testing::eventually;

class ConfigPublisherTest : public ::testing::Test {
 protected:
  ConfigPublisherTest() {
    apiRoutes_.addIndexer(kApiRoutesByHost, api::apiRouteHostIndex);
    endpointSlices_.addIndexer(kEndpointSlicesByService, endpointSliceServiceIndex);
    setService(1, "127.0.0.2");
    setRoute(1, "/");
  }

  void put(kube::ThreadSafeStore& store, json object) {
    const std::string key = kube::keyOf(object);
    store.add(key, std::make_shared<const json>(std::move(object)));
  }

  void setRoute(int generation, const std::string& path) {
    put(apiRoutes_,
        {{"metadata",
          {{"name", "store"}, {"namespace", "shop"}, {"generation", generation}, {"uid", "u1"}}},
         {"spec",
          {{"hosts", {"shop.example.com"}},
           {"rules",
            {{{"matches", {{{"path", {{"type", "PathPrefix"}, {"value", path}}}}}},
              {"backends", {{{"service", "web"}, {"port", 80}}}}}}}}}});
  }

  void setService(int generation, const std::string& address) {
    put(meshServices_,
        {{"metadata", {{"name", "web"}, {"namespace", "shop"}, {"generation", generation}}},
         {"spec",
          {{"endpoints", {{{"address", address}}}},
           {"ports", {{{"name", "http"}, {"port", 80}}}}}}});
  }

  void setClusterIp(const std::string& ip) {
    put(services_,
        {{"metadata", {{"name", "web"}, {"namespace", "shop"}}}, {"spec", {{"clusterIP", ip}}}});
  }

  kube::ThreadSafeStore apiRoutes_, meshServices_, endpointSlices_, tlsSecrets_, namespaces_, pods_,
      authSecrets_, services_;
  ConfigPublisher publisher_{
      GatewayCaches{apiRoutes_, meshServices_, endpointSlices_, tlsSecrets_, namespaces_, pods_,
                    authSecrets_},
      SidecarCaches{meshServices_, endpointSlices_, pods_, services_},
      ConfigPublisherOptions{.gateway = {}, .coalesce = 50ms, .keepVersions = 4}};
};

const api::WorkloadIdentity kCart{
    .trustDomain = "cluster.local", .namespace_ = "shop", .serviceAccount = "cart"};
const api::WorkloadIdentity kWeb{
    .trustDomain = "cluster.local", .namespace_ = "shop", .serviceAccount = "web"};

json configOf(const PublishedSnapshotPtr& snapshot) {
  return std::get<api::stream::Snapshot>(*api::stream::decodeServerMessage(snapshot->frame)).config;
}

TEST_F(ConfigPublisherTest, NothingIsServedBeforeTheCachesSynced) {
  EXPECT_EQ(publisher_.gatewaySnapshot("meshgate"), nullptr);
  publisher_.ready();
  const auto first = publisher_.gatewaySnapshot("meshgate");
  ASSERT_NE(first, nullptr);
  EXPECT_NE(first->frame.find("\"version\":\"" + first->version + "\""), std::string::npos);
  const auto contents = publisher_.contentsOf(first->version);
  ASSERT_NE(contents, nullptr);
  EXPECT_EQ(contents->generations.at("ApiRoute/shop/store"), 1);
  EXPECT_EQ(publisher_.contentsOf("no-such-version"), nullptr);
}

TEST_F(ConfigPublisherTest, ABurstOfChangesIsOneRebuildAndOnePublication) {
  publisher_.ready();
  const auto first = publisher_.gatewaySnapshot("meshgate");
  ASSERT_NE(first, nullptr);
  std::atomic<int> notified{0};
  auto subscription = publisher_.subscribe([&] { notified++; });
  const auto buildsBefore = publisher_.buildsTotal();
  for (int generation = 2; generation <= 6; ++generation) {
    setRoute(generation, "/v" + std::to_string(generation));
    publisher_.changed();
  }
  ASSERT_TRUE(eventually([&] { return notified.load() == 1; }));
  EXPECT_EQ(publisher_.buildsTotal(), buildsBefore + 1);
  const auto latest = publisher_.gatewaySnapshot("meshgate");
  EXPECT_NE(latest->version, first->version);
  EXPECT_NE(latest->frame.find("/v6"), std::string::npos);
  EXPECT_EQ(publisher_.contentsOf(latest->version)->generations.at("ApiRoute/shop/store"), 6);
  EXPECT_NE(publisher_.contentsOf(first->version), nullptr) << "recent versions are remembered";
}

TEST_F(ConfigPublisherTest, AnUnchangedBuildPublishesNothing) {
  publisher_.ready();
  const auto first = publisher_.gatewaySnapshot("meshgate");
  std::atomic<int> notified{0};
  auto subscription = publisher_.subscribe([&] { notified++; });
  const auto buildsBefore = publisher_.buildsTotal();
  publisher_.changed();
  ASSERT_TRUE(eventually([&] { return publisher_.buildsTotal() == buildsBefore + 1; }));
  std::this_thread::sleep_for(100ms);  // a publication would have followed the build at once
  EXPECT_EQ(notified.load(), 0);
  EXPECT_EQ(publisher_.gatewaySnapshot("meshgate")->version, first->version);
}

TEST_F(ConfigPublisherTest, AnEndpointOnlyChangeReusesTheRoutes) {
  publisher_.ready();
  ASSERT_NE(publisher_.gatewaySnapshot("meshgate"), nullptr);
  const auto [fullBefore, endpointsBefore] = publisher_.buildCounts();
  put(endpointSlices_, {{"metadata",
                         {{"name", "web-1"},
                          {"namespace", "shop"},
                          {"labels", {{"kubernetes.io/service-name", "web"}}}}},
                        {"endpoints", {{{"addresses", {"127.0.0.9"}}}}}});
  publisher_.changed(ConfigPublisher::Change::kEndpoints);
  // A build is counted before its snapshot is published: await the publication, then the counts.
  ASSERT_TRUE(eventually([&] {
    return publisher_.gatewaySnapshot("meshgate")->frame.find("127.0.0.9") != std::string::npos;
  }));
  EXPECT_EQ(publisher_.buildCounts().second, endpointsBefore + 1);
  EXPECT_EQ(publisher_.buildCounts().first, fullBefore);
}

TEST_F(ConfigPublisherTest, AProxyHoldingARecentVersionIsSentADeltaThatRebuildsTheSnapshot) {
  publisher_.ready();
  const auto first = publisher_.gatewaySnapshot("meshgate");
  ASSERT_NE(first, nullptr);
  setRoute(2, "/delta");
  publisher_.changed();
  ASSERT_TRUE(eventually(
      [&] { return publisher_.gatewaySnapshot("meshgate")->version != first->version; }));
  const auto latest = publisher_.gatewaySnapshot("meshgate");

  const auto update = publisher_.gatewayUpdate("meshgate", first->version);
  ASSERT_NE(update, nullptr);
  EXPECT_EQ(update->version, latest->version);
  EXPECT_EQ(update->base, first->version);
  EXPECT_LT(update->frame.size(), latest->frame.size());
  EXPECT_EQ(publisher_.gatewayUpdate("meshgate", first->version), update) << "encoded once";
  // Applied to the first snapshot's config, it gives the latest snapshot's config exactly.
  const auto firstConfig =
      std::get<api::stream::Snapshot>(*api::stream::decodeServerMessage(first->frame)).config;
  const auto latestConfig =
      std::get<api::stream::Snapshot>(*api::stream::decodeServerMessage(latest->frame)).config;
  const auto delta = api::stream::decodeServerMessage(update->frame);
  ASSERT_TRUE(delta.ok()) << delta.error();
  const auto applied = api::stream::applyDelta(firstConfig, std::get<api::stream::Delta>(*delta));
  ASSERT_TRUE(applied.ok()) << applied.error();
  EXPECT_EQ(*applied, latestConfig);

  // A version it does not remember, or the current one: the whole snapshot.
  EXPECT_EQ(publisher_.gatewayUpdate("meshgate", "forgotten"), latest);
  EXPECT_EQ(publisher_.gatewayUpdate("meshgate", latest->version), latest);
  EXPECT_EQ(publisher_.gatewayUpdate("meshgate", ""), latest);
}

TEST_F(ConfigPublisherTest, OldVersionsAreForgottenBeyondTheLimit) {
  publisher_.ready();
  const auto first = publisher_.gatewaySnapshot("meshgate")->version;
  for (int generation = 2; generation <= 6; ++generation) {
    const auto before = publisher_.gatewaySnapshot("meshgate")->version;
    setRoute(generation, "/g" + std::to_string(generation));
    publisher_.changed();
    ASSERT_TRUE(
        eventually([&] { return publisher_.gatewaySnapshot("meshgate")->version != before; }));
  }
  EXPECT_EQ(publisher_.contentsOf(first), nullptr);  // 6 versions published, 4 kept
}

TEST_F(ConfigPublisherTest, EachIdentityGetsItsOwnSidecarSnapshot) {
  EXPECT_EQ(publisher_.sidecarSnapshot(kCart), nullptr) << "nothing before the caches synced";
  publisher_.ready();
  const auto keepCart = publisher_.keepSidecar(kCart);
  const auto keepWeb = publisher_.keepSidecar(kWeb);
  const auto cart = publisher_.sidecarSnapshot(kCart);
  const auto web = publisher_.sidecarSnapshot(kWeb);
  ASSERT_NE(cart, nullptr);
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(configOf(cart)["mesh"]["identity"], "spiffe://cluster.local/ns/shop/sa/cart");
  EXPECT_EQ(configOf(web)["mesh"]["identity"], "spiffe://cluster.local/ns/shop/sa/web");
  EXPECT_TRUE(configOf(web)["mesh"]["inbound"].size() == 1u) << "web serves its MeshService";
  EXPECT_TRUE(configOf(cart)["mesh"]["inbound"].empty());
  EXPECT_NE(cart->version, web->version);
  // A gateway of a class named like a sidecar key is still a gateway.
  const auto gateway = publisher_.gatewaySnapshot("sidecar:spiffe://cluster.local/ns/shop/sa/cart");
  ASSERT_NE(gateway, nullptr);
  EXPECT_NE(gateway->version, cart->version);
  EXPECT_EQ(publisher_.sidecarSnapshot(kCart), cart);
  EXPECT_EQ(publisher_.sidecars().size(), 2u);
  EXPECT_EQ(publisher_.classes().size(), 1u) << "classes() lists gateways only";
}

TEST_F(ConfigPublisherTest, ServiceChangesRebuildSidecarsAndSecretChangesGateways) {
  publisher_.ready();
  const auto keep = publisher_.keepSidecar(kCart);
  const auto sidecar = publisher_.sidecarSnapshot(kCart);
  const auto gateway = publisher_.gatewaySnapshot("meshgate");
  ASSERT_NE(sidecar, nullptr);
  ASSERT_NE(gateway, nullptr);
  std::atomic<int> notified{0};
  auto subscription = publisher_.subscribe([&] { notified++; });

  const auto gatewayBuilds = publisher_.buildCounts();
  const auto sidecarBuilds = publisher_.sidecarBuildsTotal();
  setClusterIp("10.96.0.10");
  publisher_.changed(ConfigPublisher::Change::kServices);
  ASSERT_TRUE(eventually([&] { return notified.load() == 1; }));
  const auto rebuilt = publisher_.sidecarSnapshot(kCart);
  EXPECT_NE(rebuilt->version, sidecar->version);
  EXPECT_EQ(configOf(rebuilt)["mesh"]["outbound"][0]["addresses"], json::array({"10.96.0.10"}));
  EXPECT_EQ(publisher_.sidecarBuildsTotal(), sidecarBuilds + 1);
  EXPECT_EQ(publisher_.buildCounts(), gatewayBuilds) << "gateways read no Service";
  EXPECT_EQ(publisher_.gatewaySnapshot("meshgate"), gateway);

  const auto buildsBefore = publisher_.buildsTotal();
  publisher_.changed(ConfigPublisher::Change::kSecrets);
  ASSERT_TRUE(eventually([&] { return publisher_.buildsTotal() == buildsBefore + 1; }));
  EXPECT_EQ(publisher_.sidecarBuildsTotal(), sidecarBuilds + 1) << "sidecars read no Secret";

  // A MeshService change reaches both.
  setService(2, "127.0.0.7");
  publisher_.changed(ConfigPublisher::Change::kMeshServices);
  ASSERT_TRUE(eventually([&] {
    return publisher_.sidecarSnapshot(kCart)->version != rebuilt->version &&
           publisher_.gatewaySnapshot("meshgate")->version != gateway->version;
  }));
  EXPECT_NE(publisher_.sidecarSnapshot(kCart)->frame.find("127.0.0.7"), std::string::npos);
}

TEST_F(ConfigPublisherTest, ASidecarHoldingARecentVersionIsSentADelta) {
  publisher_.ready();
  const auto keep = publisher_.keepSidecar(kCart);
  const auto first = publisher_.sidecarSnapshot(kCart);
  ASSERT_NE(first, nullptr);
  setClusterIp("10.96.0.10");
  publisher_.changed(ConfigPublisher::Change::kServices);
  ASSERT_TRUE(
      eventually([&] { return publisher_.sidecarSnapshot(kCart)->version != first->version; }));
  const auto latest = publisher_.sidecarSnapshot(kCart);

  const auto update = publisher_.sidecarUpdate(kCart, first->version);
  ASSERT_NE(update, nullptr);
  EXPECT_EQ(update->version, latest->version);
  EXPECT_EQ(update->base, first->version);
  const auto delta = api::stream::decodeServerMessage(update->frame);
  ASSERT_TRUE(delta.ok()) << delta.error();
  EXPECT_TRUE(std::get<api::stream::Delta>(*delta).set.contains("mesh"));
  const auto applied =
      api::stream::applyDelta(configOf(first), std::get<api::stream::Delta>(*delta));
  ASSERT_TRUE(applied.ok()) << applied.error();
  EXPECT_EQ(*applied, configOf(latest));
  // Another identity's version is no base for this one.
  const auto keepWeb = publisher_.keepSidecar(kWeb);
  EXPECT_EQ(publisher_.sidecarUpdate(kCart, publisher_.sidecarSnapshot(kWeb)->version), latest);
}

TEST_F(ConfigPublisherTest, AnIdentityNobodyKeepsIsForgotten) {
  publisher_.ready();
  ASSERT_NE(publisher_.gatewaySnapshot("meshgate"), nullptr);
  auto first = publisher_.keepSidecar(kCart);
  auto second = publisher_.keepSidecar(kCart);
  ASSERT_NE(publisher_.sidecarSnapshot(kCart), nullptr);
  first.reset();
  EXPECT_TRUE(publisher_.currentSidecar(kCart).has_value()) << "one session still holds it";
  second.reset();
  EXPECT_FALSE(publisher_.currentSidecar(kCart).has_value());
  EXPECT_TRUE(publisher_.sidecars().empty());
  // Forgotten, it is rebuilt no more. (A pass builds gateways first: the second change's gateway
  // build comes after everything the first change built.)
  const auto builds = publisher_.sidecarBuildsTotal();
  const auto buildsBefore = publisher_.buildsTotal();
  publisher_.changed(ConfigPublisher::Change::kMeshServices);
  ASSERT_TRUE(eventually([&] { return publisher_.buildsTotal() >= buildsBefore + 1; }));
  publisher_.changed(ConfigPublisher::Change::kRoutes);
  ASSERT_TRUE(eventually([&] { return publisher_.buildsTotal() >= buildsBefore + 2; }));
  EXPECT_EQ(publisher_.sidecarBuildsTotal(), builds);
  // A sidecar of it connecting again has it built at once.
  const auto again = publisher_.keepSidecar(kCart);
  EXPECT_NE(publisher_.sidecarSnapshot(kCart), nullptr);
}

TEST_F(ConfigPublisherTest, SidecarsCountInNoProgrammedVerdict) {
  publisher_.ready();
  DataplaneRegistry registry(
      [&](const std::string& version) { return publisher_.contentsOf(version); });
  const GatewayDataplaneStatus status(publisher_, registry);
  const auto gatewayVersion = publisher_.gatewaySnapshot("meshgate")->version;
  const auto keep = publisher_.keepSidecar(kCart);
  const auto sidecarVersion = publisher_.sidecarSnapshot(kCart)->version;

  // A sidecar alone: no dataplane for the route or the service, whatever it ACKs or NACKs.
  const auto sidecar = registry.connected({.node = "sidecar~cart-1.shop",
                                           .mode = "sidecar",
                                           .ingressClass = "",
                                           .identity = api::spiffeId(kCart),
                                           .proxyVersion = "0.1.0",
                                           .peer = "10.0.0.1:1"});
  registry.sent(sidecar, sidecarVersion);
  registry.nacked(sidecar, sidecarVersion, {"mesh.inbound[0]: bad"});
  EXPECT_EQ(status.apiRoute("shop", "store", 1, "meshgate").total, 0);
  EXPECT_EQ(status.meshService("shop", "web", 1).total, 0);
  EXPECT_TRUE(registry.allAcked("meshgate", gatewayVersion));

  const auto gateway = registry.connected({.node = "gateway~a",
                                           .mode = "gateway",
                                           .ingressClass = "meshgate",
                                           .identity = "spiffe://gw",
                                           .proxyVersion = "0.1.0",
                                           .peer = "10.0.0.2:1"});
  registry.sent(gateway, gatewayVersion);
  registry.acked(gateway, gatewayVersion);
  registry.acked(sidecar, sidecarVersion);
  const auto route = status.apiRoute("shop", "store", 1, "meshgate");
  EXPECT_EQ(route.total, 1);
  EXPECT_EQ(route.programmed, 1);
  const auto service = status.meshService("shop", "web", 1);
  EXPECT_EQ(service.total, 1);
  EXPECT_EQ(service.programmed, 1);
  EXPECT_FALSE(service.refusal);
  EXPECT_EQ(registry.connectedCount("sidecar"), 1u);
}

}  // namespace
}  // namespace meshgate::op
