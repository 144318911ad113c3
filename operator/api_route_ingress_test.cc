// ApiRoute → Ingress: classes, paths by match type, lost claims and missing backends left out.
#include "operator/api_route_ingress.h"

#include <gtest/gtest.h>

namespace meshgate::op {
namespace {

api::ApiRoute route() {
  api::ApiRoute r;
  r.metadata.name = "shop";
  r.metadata.namespace_ = "team";
  r.metadata.uid = "uid-1";
  r.spec.hosts = {"shop.example.com"};
  api::RouteRule orders;
  orders.matches = {{.path = api::PathMatch{.type = "PathPrefix", .value = "/orders"}},
                    {.path = api::PathMatch{.type = "Exact", .value = "/health"}},
                    {.path = api::PathMatch{.type = "RegularExpression", .value = "^/v[0-9]+/"}}};
  orders.backends = {{.service = "orders", .port = 80, .weight = 1},
                     {.service = "orders-canary", .port = 8080, .weight = 9}};
  api::RouteRule rest;  // no matches: everything else
  rest.backends = {{.service = "web", .port = 80}};
  r.spec.rules = {orders, rest};
  return r;
}

IngressPlan planFor(const api::ApiRoute& r) {
  return IngressPlan{.hosts = r.spec.hosts, .lost = {}, .missingBackends = {}, .tlsSecretName = ""};
}

TEST(ApiRouteIngressTest, MapsEveryMatchToAPathOfTheHeaviestBackend) {
  auto ingress = desiredIngress(route(), planFor(route()));
  ASSERT_TRUE(ingress.has_value());
  EXPECT_EQ((*ingress)["spec"]["ingressClassName"], "meshgate");
  EXPECT_EQ((*ingress)["metadata"]["ownerReferences"][0]["kind"], "ApiRoute");
  const auto& rules = (*ingress)["spec"]["rules"];
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]["host"], "shop.example.com");
  const auto& paths = rules[0]["http"]["paths"];
  ASSERT_EQ(paths.size(), 4u);
  EXPECT_EQ(paths[0]["path"], "/orders");
  EXPECT_EQ(paths[0]["pathType"], "Prefix");
  EXPECT_EQ(paths[0]["backend"]["service"]["name"], "orders-canary");
  EXPECT_EQ(paths[0]["backend"]["service"]["port"]["number"], 8080);
  EXPECT_EQ(paths[1]["path"], "/health");
  EXPECT_EQ(paths[1]["pathType"], "Exact");
  EXPECT_EQ(paths[2]["path"], "/v[0-9]+/");
  EXPECT_EQ(paths[2]["pathType"], "ImplementationSpecific");
  EXPECT_EQ(paths[3]["path"], "/");
  EXPECT_EQ(paths[3]["backend"]["service"]["name"], "web");
  EXPECT_FALSE((*ingress)["spec"].contains("tls"));
}

TEST(ApiRouteIngressTest, AMissingBackendFallsBackToTheNextAndAnUnresolvableRuleIsLeftOut) {
  auto plan = planFor(route());
  plan.missingBackends = {"orders-canary:8080", "web:80"};
  auto ingress = desiredIngress(route(), plan);
  ASSERT_TRUE(ingress.has_value());
  const auto& paths = (*ingress)["spec"]["rules"][0]["http"]["paths"];
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[0]["backend"]["service"]["name"], "orders");
  for (const auto& path : paths)
    EXPECT_NE(path["path"], "/");
}

TEST(ApiRouteIngressTest, ALostClaimDropsOnlyThatPath) {
  auto plan = planFor(route());
  plan.lost = {api::RouteClaim{"meshgate|shop.example.com", "PathPrefix /orders"}};
  auto ingress = desiredIngress(route(), plan);
  ASSERT_TRUE(ingress.has_value());
  const auto& paths = (*ingress)["spec"]["rules"][0]["http"]["paths"];
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[0]["path"], "/health");
}

TEST(ApiRouteIngressTest, NothingLeftToServeMeansNoIngress) {
  auto plan = planFor(route());
  plan.hosts = {};
  EXPECT_FALSE(desiredIngress(route(), plan).has_value());
}

TEST(ApiRouteIngressTest, TlsListsTheServedHostsAndTheSecret) {
  auto r = route();
  r.spec.hosts = {"a.example.com", "b.example.com"};
  r.spec.ingressClassName = "edge";
  auto plan = planFor(r);
  plan.tlsSecretName = "shop-tls";
  auto ingress = desiredIngress(r, plan);
  ASSERT_TRUE(ingress.has_value());
  EXPECT_EQ((*ingress)["spec"]["ingressClassName"], "edge");
  EXPECT_EQ((*ingress)["spec"]["tls"][0]["secretName"], "shop-tls");
  EXPECT_EQ((*ingress)["spec"]["tls"][0]["hosts"],
            nlohmann::json::array({"a.example.com", "b.example.com"}));
}

}  // namespace
}  // namespace meshgate::op
