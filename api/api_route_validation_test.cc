// Tests for api/api_route_validation.h. The full rule table lives in api/testdata/invalid
// (invalid_objects_test.cc); these cover valid objects and behaviour the table cannot show.
#include "api/api_route_validation.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/api_route_codec.h"
#include "api/yaml_loader.h"

namespace meshgate::api {
namespace {

std::vector<std::string> messages(const ErrorList& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors)
    out.push_back(e.toString());
  return out;
}

ApiRoute load(const std::string& path) {
  const auto loaded = loadYamlFile(path);
  EXPECT_TRUE(loaded.ok()) << loaded.error;
  const auto decoded = decodeApiRoute(loaded.documents.at(0));
  EXPECT_TRUE(decoded.ok()) << formatErrors(decoded.errors);
  return decoded.object.value_or(ApiRoute{});
}

ApiRoute minimal() {
  ApiRoute route;
  route.metadata.name = "shop";
  route.spec.hosts = {"shop.example.com"};
  RouteRule rule;
  rule.backends.push_back({.service = "shop", .port = 8080});
  route.spec.rules.push_back(rule);
  return route;
}

TEST(ApiRouteValidationTest, AcceptsValidObjects) {
  for (const char* path : {"api/testdata/valid/api-route-redirect-only.yaml",
                           "api/testdata/valid/api-route-gateway.yaml"}) {
    EXPECT_EQ(messages(validateApiRoute(load(path))), std::vector<std::string>{}) << path;
  }
  EXPECT_TRUE(validateApiRoute(minimal()).empty());
}

TEST(ApiRouteValidationTest, RoundTripFixtureFailsOnlyOnItsDeliberateConflicts) {
  EXPECT_EQ(messages(validateApiRoute(load("api/testdata/roundtrip/api-route.yaml"))),
            (std::vector<std::string>{
                "spec.auth.jwt.jwks: Invalid value: \"object\": exactly one of secretRef or uri "
                "must be set",
                "spec.auth.disabled: Forbidden: only allowed in a rule's auth override",
                "spec.rules[0].filters: Invalid value: \"object\": rewrite and redirect cannot "
                "both be set"}));
}

TEST(ApiRouteValidationTest, RejectsWildcardNotLeftmost) {
  ApiRoute route = minimal();
  route.spec.hosts = {"*.example.com", "shop.*.com"};
  EXPECT_EQ(messages(validateApiRoute(route)),
            (std::vector<std::string>{
                "spec.hosts[1]: Invalid value: \"shop.*.com\": must be a lowercase RFC 1123 "
                "hostname, optionally prefixed by \"*.\" (a wildcard is only allowed as the "
                "leftmost label)"}));
}

TEST(ApiRouteValidationTest, AcceptsARedirectWithoutBackends) {
  ApiRoute route = minimal();
  route.spec.rules[0].backends.clear();
  route.spec.rules[0].filters = Filters{.redirect = Redirect{.scheme = "https"}};
  EXPECT_TRUE(validateApiRoute(route).empty());
}

TEST(ApiRouteValidationTest, AcceptsAZeroWeightNextToAWeightedBackend) {
  ApiRoute route = minimal();
  route.spec.rules[0].backends.push_back({.service = "shop-canary", .port = 8080, .weight = 0});
  EXPECT_TRUE(validateApiRoute(route).empty());
}

TEST(ApiRouteValidationTest, RuleOverrideMayDisableAuth) {
  ApiRoute route = minimal();
  route.spec.rules[0].auth = Auth{.disabled = true};
  EXPECT_TRUE(validateApiRoute(route).empty());
  route.spec.rules[0].auth = Auth{.allowAnonymous = true, .disabled = false};
  EXPECT_TRUE(validateApiRoute(route).empty());
}

TEST(ApiRouteValidationTest, DefaultPathTypeIsPathPrefix) {
  ApiRoute route = minimal();
  route.spec.rules[0].matches.push_back({.path = PathMatch{.value = "orders"}});
  EXPECT_EQ(messages(validateApiRoute(route)),
            (std::vector<std::string>{
                "spec.rules[0].matches[0].path.value: Invalid value: \"orders\": must start with "
                "\"/\" and contain no whitespace, \"?\" or \"#\""}));
}

TEST(ApiRouteValidationTest, RegexPathsNeedNotStartWithASlash) {
  ApiRoute route = minimal();
  route.spec.rules[0].matches.push_back(
      {.path = PathMatch{.type = "RegularExpression", .value = ".*\\.(png|jpg)$"}});
  EXPECT_TRUE(validateApiRoute(route).empty());
}

TEST(ApiRouteValidationTest, RateLimitKeyNameIsOptionalForClientIpAndApiKey) {
  ApiRoute route = minimal();
  route.spec.rules[0].rateLimit =
      RateLimit{.requests = 5, .unit = "Second", .key = RateLimitKey{.type = "ApiKey"}};
  EXPECT_TRUE(validateApiRoute(route).empty());
  route.spec.rules[0].rateLimit->key = RateLimitKey{};
  EXPECT_TRUE(validateApiRoute(route).empty());
}

TEST(ApiRouteValidationTest, WildcardCorsOriginWithoutCredentialsIsAllowed) {
  ApiRoute route = minimal();
  route.spec.rules[0].cors = Cors{.allowOrigins = {"*"}, .allowCredentials = false};
  EXPECT_TRUE(validateApiRoute(route).empty());
}

TEST(ApiRouteValidationTest, RejectsRegexesBeyondTheProxyMemoryBudget) {
  std::string huge;
  for (int i = 0; i < 100; ++i)
    huge += "[a-z]{1000}";
  ApiRoute route = minimal();
  route.spec.rules[0].matches.push_back(
      {.headers = {{.name = "x-id", .type = "RegularExpression", .value = huge}}});
  const auto errors = validateApiRoute(route);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "spec.rules[0].matches[0].headers[0].value");
  EXPECT_EQ(errors[0].detail,
            "must be a valid RE2 regular expression: pattern too large - compile failed");
}

TEST(ApiRouteValidationTest, ChecksEveryRuleAndMatch) {
  ApiRoute route = minimal();
  route.spec.rules.push_back(route.spec.rules[0]);
  route.spec.rules[1].matches = {{.method = "GET"}, {.method = "BREW"}};
  route.spec.rules[1].backends[0].weight = 0;
  EXPECT_EQ(messages(validateApiRoute(route)),
            (std::vector<std::string>{
                "spec.rules[1].matches[1].method: Unsupported value: \"BREW\": supported values: "
                "\"GET\", \"HEAD\", \"POST\", \"PUT\", \"DELETE\", \"CONNECT\", \"OPTIONS\", "
                "\"TRACE\", \"PATCH\"",
                "spec.rules[1].backends: Invalid value: \"array\": at least one backend must have "
                "a weight greater than 0"}));
}

}  // namespace
}  // namespace meshgate::api
