// The connected proxies' ACK state and the Programmed verdict built from it.
#include "operator/dataplane_registry.h"

#include <gtest/gtest.h>

#include "api/condition.h"
#include "operator/dataplane_status.h"

namespace meshgate::op {
namespace {

class DataplaneRegistryTest : public ::testing::Test {
 protected:
  DataplaneRegistryTest()
      : registry_([this](const std::string& version) -> SnapshotContentsPtr {
          const auto found = versions_.find(version);
          return found == versions_.end() ? nullptr : found->second;
        }) {
    versions_["v1"] = std::make_shared<SnapshotContents>(SnapshotContents{
        {{"ApiRoute/shop/store", 1}, {"MeshService/shop/web", 1}},
        {{"shop/store", "ApiRoute/shop/store"}, {"shop/store.2", "ApiRoute/shop/store"}}});
    versions_["v2"] = std::make_shared<SnapshotContents>(
        SnapshotContents{{{"ApiRoute/shop/store", 2}, {"MeshService/shop/web", 1}},
                         {{"shop/store", "ApiRoute/shop/store"}}});
  }

  SessionId gateway(const std::string& node, const std::string& ingressClass = "meshgate") {
    return registry_.connected(
        {.node = node,
         .mode = "gateway",
         .ingressClass = ingressClass,
         .identity = "spiffe://cluster.local/ns/meshgate-system/sa/meshgate-gateway",
         .proxyVersion = "0.1.0",
         .peer = "127.0.0.1:1"});
  }

  DataplaneVerdict route(int64_t generation) const {
    return registry_.verdict("ApiRoute/shop/store", generation, [](const DataplaneInfo& info) {
      return info.ingressClass == "meshgate";
    });
  }

  std::map<std::string, SnapshotContentsPtr> versions_;
  DataplaneRegistry registry_;
};

TEST_F(DataplaneRegistryTest, ProgrammedCountsTheCarriersThatAckedTheCurrentGeneration) {
  EXPECT_EQ(route(2).total, 0);
  const auto a = gateway("gateway~a");
  const auto b = gateway("gateway~b");
  gateway("gateway~internal", "internal");  // another class: not a carrier
  registry_.sent(a, "v2");
  registry_.sent(b, "v2");
  registry_.acked(a, "v2");
  registry_.acked(b, "v1");  // an older generation
  auto verdict = route(2);
  EXPECT_EQ(verdict.total, 2);
  EXPECT_EQ(verdict.programmed, 1);
  EXPECT_FALSE(verdict.refusal);
  registry_.acked(b, "v2");
  EXPECT_EQ(route(2).programmed, 2);
  registry_.disconnected(a);
  EXPECT_EQ(route(2).total, 1);
  registry_.acked(b, "v-unknown");  // a version the operator no longer remembers
  EXPECT_EQ(route(2).programmed, 0);
}

TEST_F(DataplaneRegistryTest, ANackOfTheLatestVersionIsARefusalWithTheFirstError) {
  const auto a = gateway("gateway~a");
  registry_.sent(a, "v1");
  registry_.acked(a, "v1");
  registry_.sent(a, "v2");
  registry_.nacked(a, "v2", {"listeners[1].tls: bad certificate", "second"});
  auto verdict = route(2);
  EXPECT_EQ(verdict.programmed, 0);
  ASSERT_TRUE(verdict.refusal);
  EXPECT_EQ(*verdict.refusal, "gateway~a refused version v2: listeners[1].tls: bad certificate");
  EXPECT_EQ(route(1).programmed, 1) << "the old version keeps serving generation 1";
  EXPECT_EQ(registry_.nacksTotal(), 1u);
  registry_.acked(a, "v2");
  EXPECT_FALSE(route(2).refusal);
}

TEST_F(DataplaneRegistryTest, ARouteLeftOutOfAnAckedVersionIsRefusedByItsOwner) {
  const auto a = gateway("gateway~a");
  registry_.sent(a, "v1");
  registry_.acked(a, "v1",
                  {{"shop/store.2", {"spec.rules[0].rateLimit: Forbidden: not supported"}}});
  const auto verdict = route(1);
  EXPECT_EQ(verdict.programmed, 0);
  ASSERT_TRUE(verdict.refusal);
  EXPECT_EQ(
      *verdict.refusal,
      "gateway~a refused route shop/store.2: spec.rules[0].rateLimit: Forbidden: not supported");
  const auto web = registry_.verdict("MeshService/shop/web", 1, [](const auto&) { return true; });
  EXPECT_EQ(web.programmed, 1) << "the refusal is the route's, not its backend's";
}

TEST_F(DataplaneRegistryTest, ChangesAreReportedAfterEachEvent) {
  std::vector<std::string> seen;
  registry_.onChange([&](const DataplaneState& state) {
    seen.push_back(state.info.node + ":" + state.ackedVersion + ":" + state.nackedVersion);
  });
  const auto a = gateway("gateway~a");
  registry_.sent(a, "v1");  // not a change of what the proxy serves
  registry_.acked(a, "v1");
  registry_.nacked(a, "v2", {"x"});
  registry_.disconnected(a);
  EXPECT_EQ(seen, (std::vector<std::string>{"gateway~a::", "gateway~a:v1:", "gateway~a:v1:v2",
                                            "gateway~a:v1:v2"}));
}

TEST_F(DataplaneRegistryTest, AllAckedLooksAtTheGatewaysOfOneClass) {
  EXPECT_TRUE(registry_.allAcked("meshgate", "v1")) << "no gateway: nothing to wait for";
  const auto a = gateway("gateway~a");
  const auto b = gateway("gateway~b");
  gateway("gateway~internal", "internal");
  registry_.acked(a, "v1");
  EXPECT_FALSE(registry_.allAcked("meshgate", "v1"));
  registry_.acked(b, "v1");
  EXPECT_TRUE(registry_.allAcked("meshgate", "v1"));
  EXPECT_FALSE(registry_.allAcked("internal", "v1"));
}

// A proxy another replica reports (dataplane_report.h), as the leader merges it.
DataplaneState reported(const std::string& node, const std::string& acked,
                        std::chrono::system_clock::time_point connectedAt = {},
                        const std::string& ingressClass = "meshgate") {
  DataplaneState state;
  state.info.node = node;
  state.info.mode = "gateway";
  state.info.ingressClass = ingressClass;
  state.connectedAt = connectedAt;
  state.sentVersion = acked;
  state.ackedVersion = acked;
  return state;
}

TEST_F(DataplaneRegistryTest, ProxiesOtherReplicasReportCountWithTheLocalOnes) {
  const auto a = gateway("gateway~a");
  registry_.sent(a, "v2");
  registry_.acked(a, "v2");
  registry_.setRemote("meshgate-dataplanes-r2", {reported("gateway~b", "v2"),
                                                 reported("gateway~other", "v2", {}, "internal")});
  auto verdict = route(2);
  EXPECT_EQ(verdict.total, 2) << "the proxy of another class is no carrier";
  EXPECT_EQ(verdict.programmed, 2);
  // A version the leader has not built (yet): counted, not programmed.
  registry_.setRemote("meshgate-dataplanes-r3", {reported("gateway~c", "v-not-built-here")});
  verdict = route(2);
  EXPECT_EQ(verdict.total, 3);
  EXPECT_EQ(verdict.programmed, 2);
  EXPECT_FALSE(verdict.refusal);
  EXPECT_EQ(registry_.list().size(), 1u) << "list() is this replica's proxies only";
  EXPECT_EQ(registry_.connectedCount("gateway"), 1u);
}

TEST_F(DataplaneRegistryTest, ANodeCountsOnceLocalFirstThenTheLaterConnection) {
  const auto a = gateway("gateway~a");
  registry_.sent(a, "v1");
  registry_.acked(a, "v1");
  const auto t0 = std::chrono::system_clock::now();
  // gateway~a moved here from r2, whose report still lists it with a newer version.
  registry_.setRemote("meshgate-dataplanes-r2", {reported("gateway~a", "v2", t0)});
  EXPECT_EQ(route(2).total, 1);
  EXPECT_EQ(route(2).programmed, 0) << "the local session counts, not the stale report";
  registry_.disconnected(a);
  EXPECT_EQ(route(2).programmed, 1) << "gone from here: the report counts again";

  // gateway~b moved from r3 to r4: the later connection counts.
  registry_.setRemote("meshgate-dataplanes-r3",
                      {reported("gateway~b", "v1", t0 + std::chrono::seconds(5))});
  registry_.setRemote("meshgate-dataplanes-r4",
                      {reported("gateway~b", "v2", t0 + std::chrono::seconds(9))});
  EXPECT_EQ(route(2).total, 2);
  EXPECT_EQ(route(2).programmed, 2);
  registry_.setRemote("meshgate-dataplanes-r3",
                      {reported("gateway~b", "v1", t0 + std::chrono::seconds(10))});
  EXPECT_EQ(route(2).total, 2);
  EXPECT_EQ(route(2).programmed, 1);
}

TEST_F(DataplaneRegistryTest, RemoteRefusalsReadAsLocalOnes) {
  auto nacked = reported("gateway~b", "v1");
  nacked.sentVersion = "v2";
  nacked.nackedVersion = "v2";
  nacked.nackErrors = {"listeners[1].tls: bad certificate"};
  registry_.setRemote("meshgate-dataplanes-r2", {nacked});
  auto verdict = route(2);
  ASSERT_TRUE(verdict.refusal);
  EXPECT_EQ(*verdict.refusal, "gateway~b refused version v2: listeners[1].tls: bad certificate");
  EXPECT_EQ(verdict.programmed, 0);

  auto refusedRoute = reported("gateway~c", "v1");
  refusedRoute.refusedRoutes = {{"shop/store.2", {"rateLimit: Forbidden: not supported"}}};
  registry_.setRemote("meshgate-dataplanes-r2", {refusedRoute});
  verdict = route(1);
  ASSERT_TRUE(verdict.refusal);
  EXPECT_EQ(*verdict.refusal,
            "gateway~c refused route shop/store.2: rateLimit: Forbidden: not supported");
  EXPECT_EQ(verdict.total, 1) << "the new report replaced the old one";
}

TEST_F(DataplaneRegistryTest, AReportNamesTheClassesItTouchedAndAnEmptyOneIsForgotten) {
  std::vector<std::string> seen;
  registry_.onChange([&](const DataplaneState& state) { seen.push_back(state.info.node); });
  EXPECT_EQ(registry_.setRemote("r2", {reported("gateway~b", "v2", {}, "meshgate")}),
            (std::set<std::string>{"meshgate"}));
  EXPECT_EQ(registry_.setRemote("r2", {reported("gateway~b", "v2", {}, "internal")}),
            (std::set<std::string>{"internal", "meshgate"}));
  EXPECT_EQ(registry_.remoteClasses(), (std::set<std::string>{"internal"}));
  EXPECT_EQ(registry_.setRemote("r2", {}), (std::set<std::string>{"internal"}));
  EXPECT_TRUE(registry_.remoteClasses().empty());
  EXPECT_EQ(registry_.verdict("ApiRoute/shop/store", 2, [](const auto&) { return true; }).total, 0);
  EXPECT_TRUE(seen.empty()) << "reports are not this replica's proxies: no local change";
}

TEST_F(DataplaneRegistryTest, SidecarsAreListedButNeitherReportedNorCountedForAClass) {
  const auto sidecar = registry_.connected({.node = "sidecar~cart-1.shop",
                                            .mode = "sidecar",
                                            .ingressClass = "",
                                            .identity = "spiffe://cluster.local/ns/shop/sa/cart",
                                            .proxyVersion = "0.1.0",
                                            .peer = "10.0.0.1:1"});
  registry_.sent(sidecar, "s1");
  EXPECT_TRUE(registry_.allAcked("", "v1")) << "a sidecar that did not ACK holds up no class";
  EXPECT_EQ(registry_.connectedCount("sidecar"), 1u);
  EXPECT_EQ(registry_.connectedCount("gateway"), 0u);
  ASSERT_EQ(registry_.list().size(), 1u);
  EXPECT_EQ(registry_.list()[0].info.mode, "sidecar");

  // Another replica's report listing a sidecar (an older replica's): only its gateway is kept.
  auto remoteSidecar = reported("sidecar~web-1.shop", "v2", {}, "");
  remoteSidecar.info.mode = "sidecar";
  EXPECT_EQ(registry_.setRemote("r2", {remoteSidecar, reported("gateway~b", "v2")}),
            (std::set<std::string>{"meshgate"}));
  EXPECT_EQ(registry_.remoteClasses(), (std::set<std::string>{"meshgate"}));
  // Counted: the local sidecar (carriers decide, and the controllers' carriers are gateways) and
  // the reported gateway; the reported sidecar is gone.
  EXPECT_EQ(registry_.verdict("ApiRoute/shop/store", 2, [](const auto&) { return true; }).total, 2);
  EXPECT_EQ(registry_.verdict("ApiRoute/shop/store", 2, isGateway).total, 1);
}

TEST(ProgrammedConditionTest, SaysWhyInEveryCase) {
  auto none =
      programmedCondition({.total = 0, .programmed = 0, .refusal = std::nullopt}, 3, "nobody");
  EXPECT_EQ(none.status, api::condition_status::kFalse);
  EXPECT_EQ(none.reason, api::condition_reason::kNoDataplane);
  EXPECT_EQ(none.message, "nobody");
  auto pending = programmedCondition({.total = 2, .programmed = 1, .refusal = std::nullopt}, 3, "");
  EXPECT_EQ(pending.reason, api::condition_reason::kPending);
  EXPECT_EQ(pending.message, "1 of 2 dataplane(s) serve generation 3");
  auto refused = programmedCondition({.total = 1, .programmed = 0, .refusal = "gw refused"}, 3, "");
  EXPECT_EQ(refused.reason, api::condition_reason::kRefused);
  EXPECT_EQ(refused.message, "gw refused (0 of 1 dataplane(s) serve generation 3)");
  auto done = programmedCondition({.total = 2, .programmed = 2, .refusal = std::nullopt}, 3, "");
  EXPECT_EQ(done.status, api::condition_status::kTrue);
  EXPECT_EQ(done.reason, api::condition_reason::kProgrammed);
}

}  // namespace
}  // namespace meshgate::op
