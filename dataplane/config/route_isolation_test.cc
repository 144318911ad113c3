// One refused route falls back to its last good form (or is left out) while the rest applies;
// errors outside routes refuse the whole snapshot.
#include "dataplane/config/route_isolation.h"

#include <gtest/gtest.h>

#include "api/proxy_config_codec.h"
#include "api/yaml_loader.h"

namespace meshgate::dp {
namespace {

ProxyConfig decode(const std::string& yaml) {
  const auto loaded = api::loadYaml(yaml, "test");
  EXPECT_TRUE(loaded.ok()) << loaded.error;
  auto decoded = api::decodeProxyConfig(loaded.documents.at(0));
  EXPECT_TRUE(decoded.ok()) << api::joinErrors(decoded.errors);
  return *decoded.object;
}

const std::string kBase = R"(
version: v2
listeners: [{name: http, address: 127.0.0.1, port: 18080}]
clusters:
- {name: web, namespace: shop, endpoints: [{address: 127.0.0.2, port: 9000}]}
routes:
- metadata: {name: good, namespace: shop}
  spec:
    hosts: [good.test]
    rules: [{backends: [{service: web, port: 80}]}]
- metadata: {name: limited, namespace: shop}
  spec:
    hosts: [limited.test]
    rules:
    - backends: [{service: web, port: 80}]
      rateLimit: {requests: 5, unit: Second, key: {type: ApiKey}}
)";

TEST(RouteIsolationTest, ARefusedRouteServesItsLastGoodFormAndIsReported) {
  api::ApiRoute previous = decode(kBase).routes[1];
  previous.spec.rules[0].rateLimit.reset();
  previous.spec.hosts = {"limited-before.test"};
  const auto isolated = isolateRefusedRoutes(decode(kBase), {{"shop/limited", previous}});
  ASSERT_TRUE(isolated.errors.empty()) << api::joinErrors(isolated.errors);
  ASSERT_EQ(isolated.config.routes.size(), 2u);
  EXPECT_EQ(isolated.config.routes[0].metadata.name, "good");
  EXPECT_EQ(isolated.config.routes[1].spec.hosts, std::vector<std::string>{"limited-before.test"});
  ASSERT_EQ(isolated.refused.size(), 1u);
  EXPECT_EQ(isolated.refused.at("shop/limited"),
            std::vector<std::string>{
                "spec.rules[0].rateLimit.key.type: Invalid value: \"ApiKey\": the rule's auth "
                "checks no API key"});
  EXPECT_EQ(isolated.config.version, "v2");
}

TEST(RouteIsolationTest, ARefusedNewRouteIsLeftOut) {
  const auto isolated = isolateRefusedRoutes(decode(kBase), {});
  ASSERT_TRUE(isolated.errors.empty());
  ASSERT_EQ(isolated.config.routes.size(), 1u);
  EXPECT_EQ(isolated.config.routes[0].metadata.name, "good");
  EXPECT_EQ(isolated.refused.count("shop/limited"), 1u);
}

TEST(RouteIsolationTest, ALastGoodFormThatNoLongerFitsIsLeftOutToo) {
  api::ApiRoute previous = decode(kBase).routes[1];
  previous.spec.rules[0].rateLimit.reset();
  previous.spec.rules[0].backends[0].service = "gone";  // its cluster no longer exists
  const auto isolated = isolateRefusedRoutes(decode(kBase), {{"shop/limited", previous}});
  ASSERT_TRUE(isolated.errors.empty()) << api::joinErrors(isolated.errors);
  ASSERT_EQ(isolated.config.routes.size(), 1u);
  const auto& messages = isolated.refused.at("shop/limited");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_NE(messages[1].find("its last good form is refused too"), std::string::npos);
}

TEST(RouteIsolationTest, ErrorsOutsideRoutesRefuseTheWholeSnapshot) {
  auto config = decode(kBase);
  config.listeners[0].address = "not-an-ip";
  const auto isolated = isolateRefusedRoutes(std::move(config), {});
  ASSERT_FALSE(isolated.errors.empty());
  EXPECT_NE(api::joinErrors(isolated.errors).find("listeners[0].address"), std::string::npos);
}

}  // namespace
}  // namespace meshgate::dp
