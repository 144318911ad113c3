// The connected proxies' ACK state and the Programmed verdict built from it.
#include "operator/dataplane_registry.h"

#include <gtest/gtest.h>

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

TEST(ProgrammedConditionTest, SaysWhyInEveryCase) {
  auto none =
      programmedCondition({.total = 0, .programmed = 0, .refusal = std::nullopt}, 3, "nobody");
  EXPECT_EQ(none.status, "False");
  EXPECT_EQ(none.reason, "NoDataplane");
  EXPECT_EQ(none.message, "nobody");
  auto pending = programmedCondition({.total = 2, .programmed = 1, .refusal = std::nullopt}, 3, "");
  EXPECT_EQ(pending.reason, "Pending");
  EXPECT_EQ(pending.message, "1 of 2 dataplane(s) serve generation 3");
  auto refused = programmedCondition({.total = 1, .programmed = 0, .refusal = "gw refused"}, 3, "");
  EXPECT_EQ(refused.reason, "Refused");
  EXPECT_EQ(refused.message, "gw refused (0 of 1 dataplane(s) serve generation 3)");
  auto done = programmedCondition({.total = 2, .programmed = 2, .refusal = std::nullopt}, 3, "");
  EXPECT_EQ(done.status, "True");
  EXPECT_EQ(done.reason, "Programmed");
}

}  // namespace
}  // namespace meshgate::op
