// Oldest-wins conflict resolution between ApiRoutes.
#include "api/route_conflicts.h"

#include <gtest/gtest.h>

namespace meshgate::api {
namespace {

api::ApiRoute route(const std::string& ns, const std::string& name, const std::string& created,
                    std::vector<std::string> hosts, std::vector<std::string> prefixes) {
  api::ApiRoute r;
  r.metadata.namespace_ = ns;
  r.metadata.name = name;
  r.metadata.creationTimestamp = created;
  r.spec.hosts = std::move(hosts);
  api::RouteRule rule;
  for (auto& prefix : prefixes) {
    api::RouteMatch match;
    match.path = api::PathMatch{.type = "PathPrefix", .value = prefix};
    rule.matches.push_back(match);
  }
  r.spec.rules.push_back(rule);
  return r;
}

TEST(RouteConflictsTest, OldestRouteWinsOnlyTheCollidingClaims) {
  auto older = route("a", "shop", "2026-01-01T00:00:00Z", {"shop.example.com"}, {"/orders"});
  auto newer =
      route("b", "shop2", "2026-01-02T00:00:00Z", {"shop.example.com"}, {"/orders", "/cart"});
  auto lost = resolveConflicts({&newer, &older});
  ASSERT_EQ(lost.size(), 1u);
  ASSERT_EQ(lost["b/shop2"].size(), 1u);
  EXPECT_EQ(lost["b/shop2"][0].winner, "a/shop");
  EXPECT_EQ(lost["b/shop2"][0].claim.match, "PathPrefix /orders");
}

TEST(RouteConflictsTest, TiesOnAgeBreakByNamespaceThenName) {
  auto x = route("b", "r", "2026-01-01T00:00:00Z", {"h.example.com"}, {"/"});
  auto y = route("a", "r", "2026-01-01T00:00:00Z", {"h.example.com"}, {"/"});
  auto lost = resolveConflicts({&x, &y});
  ASSERT_EQ(lost.count("b/r"), 1u);
  EXPECT_EQ(lost["b/r"][0].winner, "a/r");
}

TEST(RouteConflictsTest, DifferentHostsMatchesOrHeaderCaseDoNotCollideUnlessEqual) {
  auto a = route("a", "one", "2026-01-01T00:00:00Z", {"one.example.com"}, {"/"});
  auto b = route("a", "two", "2026-01-02T00:00:00Z", {"two.example.com"}, {"/"});
  EXPECT_TRUE(resolveConflicts({&a, &b}).empty());

  api::RouteMatch upper;
  upper.headers = {{.name = "X-Env", .type = std::nullopt, .value = "prod"}};
  api::RouteMatch lower;
  lower.headers = {{.name = "x-env", .type = std::nullopt, .value = "prod"}};
  EXPECT_EQ(canonicalMatch(upper), canonicalMatch(lower));
  EXPECT_EQ(canonicalMatch({}), "PathPrefix /");
}

}  // namespace
}  // namespace meshgate::api
