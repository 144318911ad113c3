// Backend and endpoint picks over a compiled snapshot: health, panic mode, retries elsewhere,
// subsets, weighted backends, ring hash.
#include "dataplane/proxy/worker_view.h"

#include <map>

#include <gtest/gtest.h>

#include "dataplane/config/proxy_config_loader.h"

namespace meshgate::dp {
namespace {

constexpr std::string_view kConfig = R"(
listeners: [{name: http, address: 127.0.0.1, port: 0}]
routes:
- metadata: {name: shop}
  spec:
    hosts: [shop.example.com]
    rules:
    - matches: [{path: {type: PathPrefix, value: /split}}]
      backends: [{service: web, port: 80, weight: 3}, {service: canary, port: 80, weight: 1}]
    - matches: [{path: {type: PathPrefix, value: /v2}}]
      backends: [{service: web, port: 80, subset: v2}]
    - matches: [{path: {type: PathPrefix, value: /user}}]
      backends: [{service: sticky, port: 80}]
    - backends: [{service: web, port: 80}]
clusters:
- name: web
  endpoints:
  - {address: 127.0.0.2, labels: {version: v1}}
  - {address: 127.0.0.3, labels: {version: v1}}
  - {address: 127.0.0.4, labels: {version: v2}}
  subsets: [{name: v2, labels: {version: v2}}]
- name: canary
  endpoints: [{address: 127.0.0.5, port: 8080}]
- name: sticky
  endpoints: [{address: 127.0.0.6}, {address: 127.0.0.7}, {address: 127.0.0.8}]
  loadBalancer: {policy: RingHash, hash: {header: x-user}}
)";

class WorkerViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = loadProxyConfigText(kConfig, "test");
    ASSERT_TRUE(config.ok()) << config.error();
    auto built = Snapshot::build(std::move(*config), registry_, stats_, clock_);
    ASSERT_TRUE(built.ok()) << built.error();
    snapshot_ = *built;
    view_ = std::make_unique<WorkerView>(snapshot_, 7);
  }

  const CompiledRule& rule(size_t index) const { return snapshot_->rules()[0][index]; }
  const Cluster& clusterOf(const CompiledRule& r, size_t backend) const {
    return snapshot_->clusters()[r.backends[backend].cluster];
  }

  EndpointHealthRegistry registry_;
  ProxyStats stats_;
  SteadyClock clock_;
  SnapshotPtr snapshot_;
  std::unique_ptr<WorkerView> view_;
};

TEST_F(WorkerViewTest, EndpointsWithoutPortTakeTheBackendsPort) {
  const Cluster& web = clusterOf(rule(3), 0);
  ASSERT_EQ(web.endpoints.size(), 3u);
  EXPECT_EQ(web.endpoints[0].key, "127.0.0.2:80");
  EXPECT_EQ(clusterOf(rule(0), 1).endpoints[0].key, "127.0.0.5:8080");
}

TEST_F(WorkerViewTest, RoundRobinVisitsEveryEndpointInTurn) {
  std::map<size_t, int> hits;
  for (int i = 0; i < 30; ++i)
    hits[*view_->pickEndpoint(rule(3), 0, std::nullopt, std::nullopt)]++;
  EXPECT_EQ(hits, (std::map<size_t, int>{{0, 10}, {1, 10}, {2, 10}}));
}

TEST_F(WorkerViewTest, UnhealthyEndpointsAreSkippedUntilNoneIsLeft) {
  const Cluster& web = clusterOf(rule(3), 0);
  web.endpoints[1].health->healthy = false;
  for (int i = 0; i < 20; ++i)
    EXPECT_NE(*view_->pickEndpoint(rule(3), 0, std::nullopt, std::nullopt), 1u);
  // Panic mode: with nothing healthy, every endpoint is still tried in turn rather than refusing.
  for (const auto& endpoint : web.endpoints)
    endpoint.health->healthy = false;
  std::map<size_t, int> hits;
  for (int i = 0; i < 30; ++i)
    hits[*view_->pickEndpoint(rule(3), 0, std::nullopt, std::nullopt)]++;
  EXPECT_EQ(hits, (std::map<size_t, int>{{0, 10}, {1, 10}, {2, 10}}));
}

TEST_F(WorkerViewTest, ARetryAvoidsTheEndpointThatJustFailed) {
  for (int i = 0; i < 20; ++i)
    EXPECT_NE(*view_->pickEndpoint(rule(3), 0, std::nullopt, 2), 2u);
}

TEST_F(WorkerViewTest, SubsetBackendsUseOnlyMatchingEndpoints) {
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(*view_->pickEndpoint(rule(1), 0, std::nullopt, std::nullopt), 2u);
}

TEST_F(WorkerViewTest, BackendWeightsSplitTraffic) {
  std::map<size_t, int> hits;
  for (int i = 0; i < 400; ++i)
    hits[*view_->pickBackend(rule(0))]++;
  EXPECT_EQ(hits[0], 300);
  EXPECT_EQ(hits[1], 100);
}

TEST_F(WorkerViewTest, RingHashSendsAKeyToTheSameEndpointAndSpreadsKeys) {
  std::map<size_t, int> used;
  for (int user = 0; user < 50; ++user) {
    const RequestHash hash = RingHash::hashKey("user-" + std::to_string(user));
    const auto first = view_->pickEndpoint(rule(2), 0, hash, std::nullopt);
    for (int again = 0; again < 3; ++again)
      EXPECT_EQ(view_->pickEndpoint(rule(2), 0, hash, std::nullopt), first);
    used[*first]++;
  }
  EXPECT_EQ(used.size(), 3u);
}

TEST_F(WorkerViewTest, HealthStateIsSharedWithTheNextSnapshot) {
  clusterOf(rule(3), 0).endpoints[0].health->healthy = false;
  auto config = loadProxyConfigText(kConfig, "test");
  ASSERT_TRUE(config.ok());
  auto next = Snapshot::build(std::move(*config), registry_, stats_, clock_);
  ASSERT_TRUE(next.ok());
  const auto& nextWeb = (*next)->clusters()[(*next)->rules()[0][3].backends[0].cluster];
  EXPECT_FALSE(nextWeb.endpoints[0].health->healthy.load());
  EXPECT_TRUE(nextWeb.endpoints[1].health->healthy.load());
}

TEST_F(WorkerViewTest, AnEndpointOnlyChangeSharesTheCompiledRouteTable) {
  auto same = loadProxyConfigText(kConfig, "test");
  ASSERT_TRUE(same.ok());
  same->clusters[0].endpoints[0].weight = 7;  // endpoints change, routes do not
  auto next = Snapshot::build(std::move(*same), registry_, stats_, clock_, snapshot_.get());
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*next)->routeTable(), snapshot_->routeTable());

  auto changed = loadProxyConfigText(kConfig, "test");
  ASSERT_TRUE(changed.ok());
  changed->routes[0].spec.hosts.push_back("another.test");
  auto rebuilt = Snapshot::build(std::move(*changed), registry_, stats_, clock_, snapshot_.get());
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_NE((*rebuilt)->routeTable(), snapshot_->routeTable());
}

}  // namespace
}  // namespace meshgate::dp
