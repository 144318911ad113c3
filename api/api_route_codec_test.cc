// Tests for api/api_route_codec.h: JSON round trips, unknown fields, wrong types.
#include "api/api_route_codec.h"

#include <string>

#include <gtest/gtest.h>

#include "api/yaml_loader.h"

namespace meshgate::api {
namespace {

using nlohmann::json;

json loadFixture(const std::string& path) {
  const auto loaded = loadYamlFile(path);
  EXPECT_TRUE(loaded.ok()) << loaded.error;
  EXPECT_EQ(loaded.documents.size(), 1u);
  return loaded.documents.empty() ? json() : loaded.documents[0];
}

std::vector<std::string> messages(const ErrorList& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors)
    out.push_back(e.toString());
  return out;
}

TEST(ApiRouteCodecTest, RoundTripsAnObjectWithEveryFieldSet) {
  const json original = loadFixture("api/testdata/roundtrip/api-route.yaml");
  const auto first = decodeApiRoute(original);
  ASSERT_TRUE(first.ok()) << formatErrors(first.errors);

  const json encoded = encodeApiRoute(*first.object);
  EXPECT_EQ(encoded, original) << encoded.dump(2);

  const auto second = decodeApiRoute(encoded);
  ASSERT_TRUE(second.ok()) << formatErrors(second.errors);
  EXPECT_EQ(*second.object, *first.object);
}

TEST(ApiRouteCodecTest, DecodesFieldsIntoTheirPlaces) {
  const auto decoded = decodeApiRoute(loadFixture("api/testdata/roundtrip/api-route.yaml"));
  ASSERT_TRUE(decoded.ok());
  const ApiRoute& r = *decoded.object;
  EXPECT_EQ(r.spec.hosts.at(1), "*.shop.example.com");
  EXPECT_EQ(r.spec.tls->redirectHTTP, true);
  EXPECT_EQ(r.spec.auth->jwt->audiences.at(1), "shop-admin");
  EXPECT_EQ(r.spec.auth->jwt->jwks.secretRef->key, "jwks.json");
  EXPECT_EQ(r.spec.auth->apiKey->secretRef.name, "shop-api-keys");
  const RouteRule& rule = r.spec.rules.at(0);
  EXPECT_EQ(rule.matches.at(0).path->value, "/api");
  EXPECT_EQ(rule.matches.at(0).headers.at(0).value, "2");
  EXPECT_EQ(rule.matches.at(0).queryParams.at(0).type, "RegularExpression");
  EXPECT_EQ(rule.backends.at(0).weight, 90);
  EXPECT_EQ(rule.filters->requestHeaders->remove.at(0), "x-internal");
  EXPECT_EQ(rule.filters->redirect->statusCode, 301);
  EXPECT_EQ(rule.rateLimit->requests, 100);
  EXPECT_EQ(rule.rateLimit->key->name, "x-user-id");
  EXPECT_EQ(rule.auth->disabled, true);
  EXPECT_EQ(rule.cors->maxAge, 600);
  EXPECT_EQ(r.status.ingress, "shop");
  EXPECT_EQ(r.status.dataplanes->programmed, 2);
}

TEST(ApiRouteCodecTest, IgnoresUnknownFields) {
  const auto decoded = decodeApiRoute(json::parse(R"({
    "metadata": {"name": "shop"},
    "spec": {"hosts": ["shop.example.com"], "gatewayRefs": [{"name": "x"}],
             "rules": [{"backends": [{"service": "shop", "port": 8080, "namespace": "other"}],
                        "mirror": {"service": "shadow"}}]}
  })"));
  ASSERT_TRUE(decoded.ok()) << formatErrors(decoded.errors);
  EXPECT_EQ(decoded.object->spec.rules.at(0).backends.at(0).service, "shop");
}

TEST(ApiRouteCodecTest, ReportsWrongTypesWithFieldPaths) {
  const auto decoded = decodeApiRoute(json::parse(R"({
    "spec": {
      "hosts": "shop.example.com",
      "tls": {"redirectHTTP": "true"},
      "auth": {"jwt": {"audiences": [1], "jwks": "https://id.example.com"}},
      "rules": [{
        "matches": [{"path": "/api", "headers": [{"name": "x", "value": 2}]}],
        "backends": [{"service": "shop", "port": "8080", "weight": true}],
        "filters": {"redirect": {"statusCode": "301"}},
        "rateLimit": {"requests": 1.5, "unit": 1},
        "cors": {"allowOrigins": [["*"]], "maxAge": "600"}
      }]
    }
  })"));
  EXPECT_EQ(
      messages(decoded.errors),
      (std::vector<std::string>{
          R"(spec.hosts: Invalid value: "shop.example.com": expected an array)",
          R"(spec.tls.redirectHTTP: Invalid value: "true": expected a boolean)",
          R"(spec.auth.jwt.audiences[0]: Invalid value: 1: expected a string)",
          R"(spec.auth.jwt.jwks: Invalid value: "https://id.example.com": expected an object)",
          R"(spec.rules[0].matches[0].path: Invalid value: "/api": expected an object)",
          R"(spec.rules[0].matches[0].headers[0].value: Invalid value: 2: expected a string)",
          R"(spec.rules[0].backends[0].port: Invalid value: "8080": expected an integer)",
          R"(spec.rules[0].backends[0].weight: Invalid value: true: expected an integer)",
          R"(spec.rules[0].filters.redirect.statusCode: Invalid value: "301": expected an integer)",
          R"(spec.rules[0].rateLimit.requests: Invalid value: 1.5: expected an integer)",
          R"(spec.rules[0].rateLimit.unit: Invalid value: 1: expected a string)",
          R"(spec.rules[0].cors.allowOrigins[0]: Invalid value: "array": expected a string)",
          R"(spec.rules[0].cors.maxAge: Invalid value: "600": expected an integer)",
      }));
}

TEST(ApiRouteCodecTest, EncodesOnlyWhatIsSet) {
  ApiRoute route;
  route.metadata.name = "shop";
  route.spec.hosts = {"shop.example.com"};
  RouteRule rule;
  rule.backends.push_back({.service = "shop", .port = 8080});
  route.spec.rules.push_back(rule);
  EXPECT_EQ(encodeApiRoute(route), json::parse(R"({
    "apiVersion": "meshgate.io/v1alpha1", "kind": "ApiRoute",
    "metadata": {"name": "shop"},
    "spec": {"hosts": ["shop.example.com"], "rules": [{"backends": [{"service": "shop", "port": 8080}]}]}
  })"));
}

TEST(ApiRouteCodecTest, RejectsAMeshServiceDocument) {
  const auto decoded = decodeApiRoute(json::parse(R"({"kind": "MeshService"})"));
  EXPECT_EQ(messages(decoded.errors),
            (std::vector<std::string>{
                R"(kind: Unsupported value: "MeshService": supported values: "ApiRoute")"}));
}

}  // namespace
}  // namespace meshgate::api
