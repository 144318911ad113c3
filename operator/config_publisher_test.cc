// The publisher: a burst of changes is one rebuild, an unchanged build publishes nothing, an
// endpoint-only burst reuses the routes, published versions are remembered with their contents,
// and a proxy that holds a recent version gets a delta.
#include "operator/config_publisher.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "base/testing/eventually.h"

#include "api/route_conflicts.h"
#include "operator/api_route_reconciler.h"
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

  kube::ThreadSafeStore apiRoutes_, meshServices_, endpointSlices_, tlsSecrets_, namespaces_, pods_,
      authSecrets_;
  ConfigPublisher publisher_{
      GatewayCaches{apiRoutes_, meshServices_, endpointSlices_, tlsSecrets_, namespaces_, pods_,
                    authSecrets_},
      ConfigPublisherOptions{.ports = {}, .coalesce = 50ms, .keepVersions = 4}};
};

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
  ASSERT_TRUE(eventually([&] { return publisher_.buildCounts().second == endpointsBefore + 1; }));
  EXPECT_EQ(publisher_.buildCounts().first, fullBefore);
  EXPECT_NE(publisher_.gatewaySnapshot("meshgate")->frame.find("127.0.0.9"), std::string::npos);
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

}  // namespace
}  // namespace meshgate::op
