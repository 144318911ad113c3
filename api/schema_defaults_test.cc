// Tests for api/schema_defaults.h and api/webhook_defaults.h.
#include "api/schema_defaults.h"

#include <gtest/gtest.h>

#include "api/webhook_defaults.h"

namespace meshgate::api {
namespace {

TEST(SchemaDefaultsTest, FillsMeshServiceDefaultsInsidePresentObjects) {
  MeshService ms;
  ms.spec.endpoints.push_back({.address = "10.0.0.1"});
  ms.spec.ports.push_back({.name = "http", .port = 8080});
  ms.spec.loadBalancer.emplace();
  ms.spec.healthCheck = HealthCheck{.path = "/healthz"};
  ms.spec.outlierDetection.emplace();
  ms.spec.retries = Retries{.backoff = Backoff{}};
  ms.spec.mtls.emplace();
  applySchemaDefaults(ms);

  EXPECT_EQ(ms.spec.endpoints[0].weight, 1);
  EXPECT_EQ(ms.spec.ports[0].protocol, "HTTP");
  EXPECT_EQ(ms.spec.loadBalancer->policy, "RoundRobin");
  EXPECT_EQ(ms.spec.healthCheck->interval, "10s");
  EXPECT_EQ(ms.spec.healthCheck->timeout, "1s");
  EXPECT_EQ(ms.spec.healthCheck->healthyThreshold, 2);
  EXPECT_EQ(ms.spec.healthCheck->unhealthyThreshold, 3);
  EXPECT_EQ(ms.spec.outlierDetection->consecutiveErrors, 5);
  EXPECT_EQ(ms.spec.outlierDetection->interval, "10s");
  EXPECT_EQ(ms.spec.outlierDetection->baseEjectionTime, "30s");
  EXPECT_EQ(ms.spec.outlierDetection->maxEjectionPercent, 10);
  EXPECT_EQ(ms.spec.retries->attempts, 1);
  EXPECT_EQ(ms.spec.retries->backoff->base, "25ms");
  EXPECT_EQ(ms.spec.retries->backoff->max, "250ms");
  EXPECT_TRUE(ms.spec.retries->retryOn.empty()) << "retryOn is defaulted by the proxy";
  EXPECT_EQ(ms.spec.mtls->mode, "Permissive");
}

TEST(SchemaDefaultsTest, LeavesAbsentParentsAbsent) {
  MeshService ms;
  applySchemaDefaults(ms);
  EXPECT_EQ(ms, MeshService{});

  ApiRoute route;
  applySchemaDefaults(route);
  EXPECT_FALSE(route.spec.tls.has_value());
  EXPECT_FALSE(route.spec.auth.has_value());
  EXPECT_EQ(route.spec.ingressClassName, "meshgate");
}

TEST(SchemaDefaultsTest, KeepsValuesThatArePresent) {
  MeshService ms;
  ms.spec.healthCheck = HealthCheck{.path = "/", .interval = "3s", .timeout = "2s"};
  ms.spec.mtls = Mtls{.mode = "Strict"};
  applySchemaDefaults(ms);
  EXPECT_EQ(ms.spec.healthCheck->interval, "3s");
  EXPECT_EQ(ms.spec.healthCheck->timeout, "2s");
  EXPECT_EQ(ms.spec.mtls->mode, "Strict");
}

TEST(SchemaDefaultsTest, FillsApiRouteDefaults) {
  ApiRoute route;
  route.spec.tls.emplace();
  route.spec.auth = Auth{.apiKey = ApiKeyAuth{.secretRef = {.name = "keys"}}};
  RouteRule rule;
  RouteMatch match;
  match.path = PathMatch{};
  match.headers.push_back({.name = "x-a", .value = "1"});
  match.queryParams.push_back({.name = "q", .value = "1"});
  rule.matches.push_back(match);
  rule.backends.push_back({.service = "shop", .port = 8080});
  rule.filters = Filters{.redirect = Redirect{}};
  rule.retries = Retries{};
  rule.rateLimit = RateLimit{.requests = 1, .unit = "Second", .key = RateLimitKey{}};
  route.spec.rules.push_back(rule);
  applySchemaDefaults(route);

  EXPECT_EQ(route.spec.ingressClassName, "meshgate");
  EXPECT_EQ(route.spec.tls->redirectHTTP, false);
  EXPECT_EQ(route.spec.auth->apiKey->header, "x-api-key");
  const RouteRule& r = route.spec.rules[0];
  EXPECT_EQ(r.matches[0].path->type, "PathPrefix");
  EXPECT_EQ(r.matches[0].path->value, "/");
  EXPECT_EQ(r.matches[0].headers[0].type, "Exact");
  EXPECT_EQ(r.matches[0].queryParams[0].type, "Exact");
  EXPECT_EQ(r.backends[0].weight, 1);
  EXPECT_EQ(r.filters->redirect->statusCode, 302);
  EXPECT_EQ(r.retries->attempts, 1);
  EXPECT_FALSE(r.retries->backoff.has_value());
  EXPECT_EQ(r.rateLimit->key->type, "ClientIP");
  EXPECT_FALSE(r.rateLimit->burst.has_value()) << "burst is defaulted by the proxy";
}

TEST(WebhookDefaultsTest, ServiceAccountDefaultsToTheObjectName) {
  MeshService ms;
  ms.metadata.name = "pay";
  applyWebhookDefaults(ms);
  EXPECT_EQ(ms.spec.serviceAccount, "pay");

  ms.spec.serviceAccount = "pay-sa";
  applyWebhookDefaults(ms);
  EXPECT_EQ(ms.spec.serviceAccount, "pay-sa");
}

TEST(WebhookDefaultsTest, TargetPortDefaultsToThePort) {
  MeshService ms;
  ms.metadata.name = "pay";
  ms.spec.ports.push_back({.name = "http", .port = 8080});
  ms.spec.ports.push_back({.name = "admin", .port = 9000, .targetPort = 9900});
  ms.spec.ports.push_back({.name = "broken"});
  applyWebhookDefaults(ms);
  EXPECT_EQ(ms.spec.ports[0].targetPort, 8080);
  EXPECT_EQ(ms.spec.ports[1].targetPort, 9900);
  EXPECT_FALSE(ms.spec.ports[2].targetPort.has_value());
}

}  // namespace
}  // namespace meshgate::api
