// The fixtures of the validateProxyConfig tests (proxy_config_validation_test.cc and
// proxy_config_relay_validation_test.cc): a valid base config, its parts by name, and the errors
// of a config as strings. Header-only test code.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/proxy_config_codec.h"
#include "api/yaml_loader.h"
#include "dataplane/config/proxy_config_validation.h"

namespace meshgate::dp::testing {

inline ProxyConfig baseConfig() {
  const auto loaded = api::loadYaml(R"(
listeners:
- {name: public, address: 127.0.0.1, port: 8080}
routes:
- metadata: {name: shop}
  spec:
    hosts: [shop.example.com]
    rules:
    - matches: [{path: {type: RegularExpression, value: "^/items/[0-9]+$"}}]
      backends: [{service: shop, port: 8080, subset: v2}]
    - backends: [{service: shop, port: 8080}]
clusters:
- name: shop
  endpoints: [{address: 127.0.0.2, port: 9000, labels: {version: v2}}, {address: 127.0.0.3}]
  subsets: [{name: v2, labels: {version: v2}}]
)",
                                    "base.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.error;
  const auto decoded = api::decodeProxyConfig(loaded.documents.at(0));
  EXPECT_TRUE(decoded.ok()) << api::formatErrors(decoded.errors);
  return *decoded.object;
}

inline std::vector<std::string> errorsOf(const ProxyConfig& config) {
  std::vector<std::string> out;
  for (const auto& e : validateProxyConfig(config))
    out.push_back(e.toString());
  return out;
}

inline api::ApiRoute& route(ProxyConfig& c) {
  return c.routes.at(0);
}
inline api::RouteRule& rule(ProxyConfig& c, size_t i = 0) {
  return c.routes.at(0).spec.rules.at(i);
}
inline ClusterConfig& cluster(ProxyConfig& c) {
  return c.clusters.at(0);
}

}  // namespace meshgate::dp::testing
