// The config file shipped in config/webhook/configmap.yaml parses with the webhook's own decoder
// and states the built-in defaults, so the manifest and the code cannot drift apart.
#include <gtest/gtest.h>

#include "api/yaml_loader.h"
#include "webhook/core/webhook_config.h"

namespace meshgate::webhook {
namespace {

TEST(ShippedConfigTest, TheConfigMapHoldsAValidConfigEqualToTheDefaults) {
  auto loaded = api::loadYamlFile("config/webhook/configmap.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error;
  ASSERT_EQ(loaded.documents.size(), 1u);
  const auto text = loaded.documents[0]["data"]["config.yaml"].get<std::string>();
  auto config = parseWebhookConfig(text);
  ASSERT_TRUE(config.ok()) << config.error();
  const WebhookConfig defaults;
  EXPECT_EQ(config->injection.image, defaults.injection.image);
  EXPECT_EQ(config->injection.initImage, defaults.injection.initImage);
  EXPECT_EQ(config->injection.imagePullPolicy, defaults.injection.imagePullPolicy);
  EXPECT_EQ(config->injection.resources, defaults.injection.resources);
  EXPECT_EQ(config->injection.excludedNamespaces, defaults.injection.excludedNamespaces);
  EXPECT_EQ(config->injection.controlPlaneAddress, defaults.injection.controlPlaneAddress);
  EXPECT_EQ(config->injection.trustDomain, defaults.injection.trustDomain);
  EXPECT_EQ(config->policy.requireTLS, defaults.policy.requireTLS);
  EXPECT_EQ(config->policy.requireAuth, defaults.policy.requireAuth);
  EXPECT_EQ(config->policy.maxRateLimitBurst, defaults.policy.maxRateLimitBurst);
  EXPECT_EQ(config->policy.requireAllowedHosts, defaults.policy.requireAllowedHosts);
}

}  // namespace
}  // namespace meshgate::webhook
