// Tests for webhook/core/webhook_config.h: defaults, YAML and JSON input, strictness (unknown
// fields, wrong types) and the validation rules, each error naming its field path.
#include "webhook/core/webhook_config.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace meshgate::webhook {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string errorOf(const std::string& text) {
  const auto parsed = parseWebhookConfig(text);
  EXPECT_FALSE(parsed.ok()) << "expected an error for:\n" << text;
  return parsed.ok() ? std::string() : parsed.error();
}

TEST(WebhookConfigTest, EmptyTextGivesAllDefaults) {
  for (const std::string text : {"", "\n", "# only a comment\n", "---\n", "{}", "null"}) {
    const auto parsed = parseWebhookConfig(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error();
    EXPECT_EQ(parsed->injection.image, "localhost/meshgate/meshgate-proxy:0.1.0") << text;
    EXPECT_EQ(parsed->injection.initImage, "localhost/meshgate/meshgate-init:0.1.0") << text;
    EXPECT_EQ(parsed->injection.imagePullPolicy, "IfNotPresent");
    EXPECT_EQ(parsed->injection.controlPlaneAddress, "meshgate-operator.meshgate-system.svc:15012");
    EXPECT_EQ(parsed->injection.trustDomain, "cluster.local");
    EXPECT_EQ(parsed->injection.resources["requests"]["cpu"], "100m");
    EXPECT_TRUE(parsed->injection.excludedNamespaces.empty());
    EXPECT_FALSE(parsed->policy.requireTLS);
    EXPECT_EQ(parsed->policy.maxRateLimitBurst, 0);
  }
}

TEST(WebhookConfigTest, NullSectionsKeepDefaults) {
  const auto parsed = parseWebhookConfig("injection:\npolicy:\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->injection.image, "localhost/meshgate/meshgate-proxy:0.1.0");
}

TEST(WebhookConfigTest, DecodesEveryFieldFromYaml) {
  const auto parsed = parseWebhookConfig(R"(
injection:
  image: registry.example/meshgate/proxy:1.2.3
  initImage: registry.example/meshgate/init:1.2.3
  imagePullPolicy: Always
  resources: {requests: {cpu: 50m, memory: 32Mi}, limits: {cpu: 2, memory: 1Gi}}
  excludedNamespaces: [legacy, batch]
  controlPlaneAddress: 10.0.0.7:15012
  trustDomain: mesh.example
policy:
  requireTLS: true
  requireAuth: true
  maxRateLimitBurst: 500
  requireAllowedHosts: true
)");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const auto& in = parsed->injection;
  EXPECT_EQ(in.image, "registry.example/meshgate/proxy:1.2.3");
  EXPECT_EQ(in.initImage, "registry.example/meshgate/init:1.2.3");
  EXPECT_EQ(in.imagePullPolicy, "Always");
  EXPECT_EQ(in.resources, nlohmann::json::parse(
                              R"({"requests":{"cpu":"50m","memory":"32Mi"},
                                  "limits":{"cpu":"2","memory":"1Gi"}})"));
  EXPECT_EQ(in.excludedNamespaces, (std::vector<std::string>{"legacy", "batch"}));
  EXPECT_EQ(in.controlPlaneAddress, "10.0.0.7:15012");
  EXPECT_EQ(in.trustDomain, "mesh.example");
  EXPECT_TRUE(parsed->policy.requireTLS);
  EXPECT_TRUE(parsed->policy.requireAuth);
  EXPECT_EQ(parsed->policy.maxRateLimitBurst, 500);
  EXPECT_TRUE(parsed->policy.requireAllowedHosts);
}

TEST(WebhookConfigTest, DecodesJson) {
  const auto parsed = parseWebhookConfig(
      R"({"injection": {"imagePullPolicy": "Never"}, "policy": {"requireTLS": true}})");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->injection.imagePullPolicy, "Never");
  EXPECT_EQ(parsed->injection.image, "localhost/meshgate/meshgate-proxy:0.1.0");
  EXPECT_TRUE(parsed->policy.requireTLS);
}

TEST(WebhookConfigTest, ResourcesReplaceTheDefaultsWhole) {
  // A config asking only for requests must not inherit the default limits it did not ask for.
  const auto parsed = parseWebhookConfig("injection: {resources: {requests: {cpu: 10m}}}");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->injection.resources, nlohmann::json::parse(R"({"requests":{"cpu":"10m"}})"));
}

TEST(WebhookConfigTest, AcceptsQuantityForms) {
  const auto parsed = parseWebhookConfig(
      "injection: {resources: {limits: {cpu: 0.5, memory: 1e9, ephemeral-storage: 1.5Gi}}}");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->injection.resources["limits"]["cpu"], "0.5");
  EXPECT_EQ(parsed->injection.resources["limits"]["ephemeral-storage"], "1.5Gi");
}

TEST(WebhookConfigTest, AnEmptyInitImageIsRequired) {
  EXPECT_EQ(errorOf("injection: {initImage: \"\"}"),
            "injection.initImage: Required value: the traffic-capture init container image");
}

TEST(WebhookConfigTest, OverridesWinOnlyWhenSet) {
  WebhookConfig config;
  applyOverrides(config, {});
  EXPECT_EQ(config.injection.image, "localhost/meshgate/meshgate-proxy:0.1.0");
  EXPECT_EQ(config.injection.initImage, "localhost/meshgate/meshgate-init:0.1.0");
  applyOverrides(config, {.sidecarImage = "r.example/proxy:2", .initImage = "r.example/init:2"});
  EXPECT_EQ(config.injection.image, "r.example/proxy:2");
  EXPECT_EQ(config.injection.initImage, "r.example/init:2");
}

TEST(WebhookConfigTest, UnknownFieldsAreErrorsWithTheirPath) {
  EXPECT_THAT(errorOf("injection: {imagePullpolicy: Always}"),
              HasSubstr("injection.imagePullpolicy: Invalid value: \"Always\": unknown field"));
  EXPECT_THAT(errorOf("policies: {}"), HasSubstr("policies: Invalid value: \"object\": unknown "
                                                 "field (known fields: injection, policy)"));
  EXPECT_THAT(errorOf("injection: {resources: {claims: []}}"),
              HasSubstr("injection.resources.claims: Invalid value"));
}

TEST(WebhookConfigTest, WrongTypesAreErrorsWithTheirPath) {
  EXPECT_EQ(errorOf("policy: {requireTLS: \"yes\"}"),
            "policy.requireTLS: Invalid value: \"yes\": expected a boolean");
  EXPECT_EQ(errorOf("policy: {maxRateLimitBurst: 1.5}"),
            "policy.maxRateLimitBurst: Invalid value: 1.5: expected an integer");
  EXPECT_EQ(errorOf("injection: {excludedNamespaces: legacy}"),
            "injection.excludedNamespaces: Invalid value: \"legacy\": expected an array");
  EXPECT_EQ(errorOf("injection: {excludedNamespaces: [legacy, 7]}"),
            "injection.excludedNamespaces[1]: Invalid value: 7: expected a string");
  EXPECT_EQ(errorOf("injection: [a]"), "injection: Invalid value: \"array\": expected an object");
  EXPECT_EQ(errorOf("injection: {resources: {requests: {cpu: true}}}"),
            "injection.resources.requests[cpu]: Invalid value: true: expected a quantity "
            "(e.g. 100m, 64Mi)");
  EXPECT_EQ(errorOf("injection: {resources: {limits: [1]}}"),
            "injection.resources.limits: Invalid value: \"array\": expected an object");
  EXPECT_THAT(errorOf("just a string"), HasSubstr("expected an object"));
}

TEST(WebhookConfigTest, CollectsEveryErrorJoinedBySemicolons) {
  const std::string error = errorOf(R"(
injection:
  image: ""
  initImage: "registry.example/init: 1"
  imagePullPolicy: Sometimes
policy:
  maxRateLimitBurst: -1
  requireAuth: 1
)");
  EXPECT_EQ(error,
            "injection.image: Required value: the sidecar image; "
            "injection.initImage: Invalid value: \"registry.example/init: 1\": must not contain "
            "whitespace; "
            "injection.imagePullPolicy: Unsupported value: \"Sometimes\": supported values: "
            "\"Always\", \"IfNotPresent\", \"Never\"; "
            "policy.requireAuth: Invalid value: 1: expected a boolean; "
            "policy.maxRateLimitBurst: Invalid value: -1: must be >= 0");
}

TEST(WebhookConfigTest, RejectsMalformedQuantities) {
  EXPECT_THAT(errorOf("injection: {resources: {requests: {memory: 64MB}}}"),
              HasSubstr("injection.resources.requests[memory]: Invalid value: \"64MB\": must be "
                        "a quantity"));
  EXPECT_THAT(errorOf("injection: {resources: {requests: {cpu: \"\"}}}"),
              HasSubstr("must be a quantity"));
  EXPECT_THAT(errorOf("injection: {resources: {limits: {cpu: -1}}}"),
              HasSubstr("injection.resources.limits[cpu]: Invalid value: -1: must be greater "
                        "than or equal to 0"));
}

TEST(WebhookConfigTest, RejectsBadControlPlaneAddresses) {
  for (const std::string address : {"meshgate-operator", "host:0", "host:65536", "host:", ":15012",
                                    "host:12a", "a b:15012", "https://host:15012", "[::1:15012"}) {
    EXPECT_THAT(errorOf("injection: {controlPlaneAddress: \"" + address + "\"}"),
                HasSubstr("injection.controlPlaneAddress: Invalid value"))
        << address;
  }
}

TEST(WebhookConfigTest, AcceptsControlPlaneAddressForms) {
  for (const std::string address : {"op.meshgate-system.svc.cluster.local:15012", "10.1.2.3:1",
                                    "[fd00::1]:65535", "localhost:15012"}) {
    const auto parsed = parseWebhookConfig("injection: {controlPlaneAddress: \"" + address + "\"}");
    ASSERT_TRUE(parsed.ok()) << address << ": " << parsed.error();
    EXPECT_EQ(parsed->injection.controlPlaneAddress, address);
  }
}

TEST(WebhookConfigTest, RejectsEmptyTrustDomainAndNamespaceNames) {
  EXPECT_EQ(errorOf("injection: {trustDomain: \"\"}"), "injection.trustDomain: Required value");
  EXPECT_THAT(errorOf("injection: {trustDomain: Cluster.Local}"),
              HasSubstr("injection.trustDomain: Invalid value: \"Cluster.Local\""));
  EXPECT_EQ(errorOf("injection: {excludedNamespaces: [\"\"]}"),
            "injection.excludedNamespaces[0]: Invalid value: \"\": a namespace name must not be "
            "empty");
}

TEST(WebhookConfigTest, ReportsYamlSyntaxErrorsWithPosition) {
  const std::string error = errorOf("injection: {image: [\n");
  EXPECT_THAT(error, HasSubstr("webhook config:"));
  EXPECT_THAT(error, Not(HasSubstr("Required value")));
}

TEST(WebhookConfigTest, RejectsSeveralDocuments) {
  EXPECT_THAT(errorOf("policy: {requireTLS: true}\n---\npolicy: {requireTLS: false}\n"),
              HasSubstr("expected one YAML document"));
}

}  // namespace
}  // namespace meshgate::webhook
