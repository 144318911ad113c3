// Route selection: the most specific host decides, then match precedence, then route age.
#include "dataplane/router/route_table.h"

#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

api::RouteRule rule(std::vector<api::RouteMatch> matches) {
  api::RouteRule r;
  r.matches = std::move(matches);
  r.backends = {{.service = "web", .port = 80}};
  return r;
}

api::ApiRoute route(std::string name, std::string created, std::vector<std::string> hosts,
                    std::vector<api::RouteRule> rules) {
  api::ApiRoute r;
  r.metadata.name = std::move(name);
  r.metadata.namespace_ = "team";
  r.metadata.creationTimestamp = std::move(created);
  r.spec.hosts = std::move(hosts);
  r.spec.rules = std::move(rules);
  return r;
}

api::RouteMatch path(const char* type, const char* value) {
  return {.path = api::PathMatch{.type = type, .value = value}};
}

std::optional<RouteTarget> select(const RouteTable& table, std::string_view host,
                                  std::string_view path, std::string_view method = "GET") {
  return table.select(
      RequestView{.method = method, .host = host, .path = path, .query = {}, .headers = {}});
}

TEST(RouteTableTest, ExactBeatsLongerPrefixBeatsShorterPrefixBeatsRegex) {
  auto table = RouteTable::build(
      {route("r", "2026-01-01T00:00:00Z", {"shop.test"},
             {rule({path("RegularExpression", "/api/.*")}), rule({path("PathPrefix", "/")}),
              rule({path("PathPrefix", "/api")}), rule({path("Exact", "/api/health")})})});
  ASSERT_TRUE(table.ok()) << table.error();
  EXPECT_EQ(select(*table, "shop.test", "/api/health")->rule, 3u);
  EXPECT_EQ(select(*table, "shop.test", "/api/orders")->rule, 2u);
  EXPECT_EQ(select(*table, "shop.test", "/other")->rule, 1u);
}

TEST(RouteTableTest, AMethodThenMoreHeadersBreakTies) {
  api::RouteMatch withMethod = path("PathPrefix", "/a");
  withMethod.method = "POST";
  api::RouteMatch withHeader = path("PathPrefix", "/a");
  withHeader.headers = {{.name = "x-env", .type = std::nullopt, .value = "canary"}};
  auto table = RouteTable::build(
      {route("r", "2026-01-01T00:00:00Z", {"shop.test"},
             {rule({path("PathPrefix", "/a")}), rule({withHeader}), rule({withMethod})})});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(select(*table, "shop.test", "/a", "POST")->rule, 2u);
  EXPECT_EQ(table
                ->select(RequestView{.method = "GET",
                                     .host = "shop.test",
                                     .path = "/a",
                                     .query = {},
                                     .headers = {{"x-env", "canary"}}})
                ->rule,
            1u);
  EXPECT_EQ(select(*table, "shop.test", "/a")->rule, 0u);
}

TEST(RouteTableTest, TheOlderRouteWinsAnIdenticalMatch) {
  auto table = RouteTable::build(
      {route("young", "2026-02-01T00:00:00Z", {"shop.test"}, {rule({path("PathPrefix", "/")})}),
       route("old", "2026-01-01T00:00:00Z", {"shop.test"}, {rule({path("PathPrefix", "/")})})});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(select(*table, "shop.test", "/x")->route, 1u);
}

TEST(RouteTableTest, TheMostSpecificHostDecidesAlone) {
  auto table = RouteTable::build(
      {route("wild", "2026-01-01T00:00:00Z", {"*.example.com"}, {rule({path("PathPrefix", "/")})}),
       route("exact", "2026-01-01T00:00:00Z", {"api.example.com"},
             {rule({path("PathPrefix", "/v1")})})});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(select(*table, "API.example.com:443", "/v1/x")->route, 1u);
  EXPECT_FALSE(select(*table, "api.example.com", "/other").has_value());
  EXPECT_EQ(select(*table, "www.example.com", "/other")->route, 0u);
  EXPECT_FALSE(select(*table, "example.com", "/").has_value());
}

TEST(RouteTableTest, ABadRegexNamesTheRouteAndTheMatch) {
  auto table = RouteTable::build(
      {route("bad", "2026-01-01T00:00:00Z", {"shop.test"},
             {rule({path("PathPrefix", "/")}), rule({path("RegularExpression", "(x")})})});
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.error().find("ApiRoute team/bad: spec.rules[1].matches[0]: path: invalid"),
            std::string::npos)
      << table.error();
}

}  // namespace
}  // namespace meshgate::dp
