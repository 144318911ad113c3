// Oldest-wins conflict resolution between ApiRoutes, and which stored routes compete at all.
#include "api/route_conflicts.h"

#include <map>

#include <gtest/gtest.h>

#include "api/allowed_hosts.h"
#include "api/api_route_codec.h"
#include "api/api_route_validation.h"

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

// A route that passes validateApiRoute: one rule with a backend on "/".
api::ApiRoute validRoute(const std::string& ns, const std::string& name, const std::string& created,
                         std::vector<std::string> hosts) {
  api::ApiRoute r = route(ns, name, created, std::move(hosts), {"/"});
  r.spec.rules[0].backends.push_back({.service = "shop", .port = 8080});
  return r;
}

StoredObjectPtr stored(const api::ApiRoute& r) {
  return std::make_shared<const nlohmann::json>(encodeApiRoute(r));
}

// Namespaces by name; a namespace given an annotation allows only those hosts.
class Namespaces {
 public:
  void allow(const std::string& ns, const std::string& annotation) {
    objects_[ns] = std::make_shared<const nlohmann::json>(nlohmann::json{
        {"metadata", {{"name", ns}, {"annotations", {{kAllowedHostsAnnotation, annotation}}}}}});
  }
  NamespaceLookup lookup() const {
    return [this](const std::string& ns) -> StoredObjectPtr {
      auto it = objects_.find(ns);
      return it == objects_.end() ? nullptr : it->second;
    };
  }

 private:
  std::map<std::string, StoredObjectPtr> objects_;
};

std::vector<std::string> keysOf(const std::vector<api::ApiRoute>& routes) {
  std::vector<std::string> keys;
  for (const auto& r : routes)
    keys.push_back(keyOf(r));
  return keys;
}

TEST(CompetingRoutesTest, AnInvalidCandidateClaimsNothing) {
  const auto mine = validRoute("a", "mine", "2026-01-03T00:00:00Z", {"shop.example.com"});
  auto noRules = validRoute("b", "no-rules", "2026-01-01T00:00:00Z", {"shop.example.com"});
  noRules.spec.rules.clear();
  ASSERT_FALSE(validateApiRoute(noRules).empty());
  auto undecodable = std::make_shared<const nlohmann::json>(nlohmann::json{
      {"metadata", {{"namespace", "c"}, {"name", "bad"}}}, {"spec", {{"hosts", "not a list"}}}});
  const auto valid = validRoute("d", "ok", "2026-01-02T00:00:00Z", {"shop.example.com"});

  const auto competing = competingRoutes(
      mine, {stored(noRules), undecodable, nullptr, stored(valid)}, Namespaces().lookup());
  EXPECT_EQ(keysOf(competing), std::vector<std::string>{"d/ok"});
}

TEST(CompetingRoutesTest, ACandidateLosesTheHostsItsNamespaceForbids) {
  const auto mine = validRoute("a", "mine", "2026-01-03T00:00:00Z", {"shop.example.com"});
  const auto partly =
      validRoute("b", "partly", "2026-01-01T00:00:00Z", {"shop.example.com", "b.example.com"});
  const auto forbidden = validRoute("c", "forbidden", "2026-01-01T00:00:00Z", {"shop.example.com"});
  const auto unknownNamespace =
      validRoute("d", "anywhere", "2026-01-02T00:00:00Z", {"shop.example.com"});
  Namespaces namespaces;
  namespaces.allow("b", "b.example.com");
  namespaces.allow("c", "*.c.example.com");

  const auto competing = competingRoutes(
      mine, {stored(partly), stored(forbidden), stored(unknownNamespace)}, namespaces.lookup());
  ASSERT_EQ(keysOf(competing), (std::vector<std::string>{"b/partly", "d/anywhere"}));
  EXPECT_EQ(competing[0].spec.hosts, std::vector<std::string>{"b.example.com"});
  EXPECT_EQ(competing[1].spec.hosts, std::vector<std::string>{"shop.example.com"});
  // So the forbidden host's claim stays with the route that may serve it.
  std::vector<const api::ApiRoute*> contenders = {&mine};
  for (const auto& other : competing)
    contenders.push_back(&other);
  const auto lost = resolveConflicts(contenders);
  ASSERT_EQ(lost.count("a/mine"), 1u);
  EXPECT_EQ(lost.at("a/mine").at(0).winner, "d/anywhere");
}

TEST(CompetingRoutesTest, SkipsTheRouteItself) {
  const auto mine = validRoute("a", "mine", "2026-01-03T00:00:00Z", {"shop.example.com"});
  auto storedMine = mine;
  storedMine.spec.hosts.push_back("old.example.com");  // the stored version before this update
  const auto other = validRoute("a", "other", "2026-01-04T00:00:00Z", {"shop.example.com"});
  const auto competing =
      competingRoutes(mine, {stored(storedMine), stored(other)}, Namespaces().lookup());
  EXPECT_EQ(keysOf(competing), std::vector<std::string>{"a/other"});
}

TEST(CompetingRoutesTest, ARouteFoundThroughSeveralHostsComesOnceOldestFirst) {
  const auto mine =
      validRoute("a", "mine", "2026-01-03T00:00:00Z", {"one.example.com", "two.example.com"});
  const auto both =
      validRoute("b", "both", "2026-01-02T00:00:00Z", {"one.example.com", "two.example.com"});
  const auto oldest = validRoute("c", "oldest", "2026-01-01T00:00:00Z", {"two.example.com"});
  // What the host index returns for one.example.com, then for two.example.com.
  const auto competing =
      competingRoutes(mine, {stored(both), stored(both), stored(oldest)}, Namespaces().lookup());
  EXPECT_EQ(keysOf(competing), (std::vector<std::string>{"c/oldest", "b/both"}));
}

}  // namespace
}  // namespace meshgate::api
