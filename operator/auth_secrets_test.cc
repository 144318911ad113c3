// The Secrets ApiRoute auth names: the effective references (route default, rule overrides,
// disabled rules, default keys), how they resolve against the cache (decoded values, what is
// missing and why), and which routes a Secret event re-queues.
#include "operator/auth_secrets.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "api/api_route_codec.h"
#include "base/base64.h"

namespace meshgate::op {
namespace {

using nlohmann::json;

json jwtAuth(const std::string& secret) {
  return {{"jwt",
           {{"issuer", "https://issuer.example.com"},
            {"audiences", {"shop"}},
            {"jwks", {{"secretRef", {{"name", secret}}}}}}}};
}

json apiKeyAuth(const std::string& secret, const std::string& key = "") {
  json ref = {{"name", secret}};
  if (!key.empty()) ref["key"] = key;
  return {{"apiKey", {{"secretRef", ref}}}};
}

json rule(const std::string& path, json auth = nullptr) {
  json out = {{"matches", json::array({{{"path", {{"type", "PathPrefix"}, {"value", path}}}}})},
              {"backends", json::array({{{"service", "web"}, {"port", 80}}})}};
  if (!auth.is_null()) out["auth"] = std::move(auth);
  return out;
}

json routeObject(const std::string& ns, const std::string& name, json spec) {
  return {{"apiVersion", "meshgate.io/v1alpha1"},
          {"kind", "ApiRoute"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", std::move(spec)}};
}

api::ApiRoute decoded(const json& object) {
  auto result = api::decodeApiRoute(object);
  EXPECT_TRUE(result.ok());
  return *result.object;
}

json secret(const std::string& ns, const std::string& name,
            const std::map<std::string, std::string>& data) {
  json encoded = json::object();
  for (const auto& [key, value] : data)
    encoded[key] = base64Encode(value);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"type", "Opaque"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", encoded}};
}

void put(kube::ThreadSafeStore& store, const json& object) {
  store.add(kube::keyOf(object), std::make_shared<const json>(object));
}

TEST(AuthSecretsTest, RefsAreTheRouteDefaultAndEachRuleOverrideNotDisabledWithDefaultKeys) {
  const auto route = decoded(routeObject(
      "shop", "store",
      {{"hosts", {"shop.example.com"}},
       {"auth", jwtAuth("shop-jwks")},
       {"rules",
        {rule("/"), rule("/partners", apiKeyAuth("partner-keys", "partners")),
         rule("/mobile", apiKeyAuth("mobile-keys")), rule("/health", {{"disabled", true}}),
         rule("/again", jwtAuth("shop-jwks"))}}}));
  const std::vector<AuthSecretRef> want = {
      {"mobile-keys", "api-keys"}, {"partner-keys", "partners"}, {"shop-jwks", "jwks.json"}};
  EXPECT_EQ(authSecretRefs(route), want);
}

TEST(AuthSecretsTest, ARouteWithoutAuthOrWithAJwksUriNamesNoSecret) {
  auto uriAuth = jwtAuth("unused");
  uriAuth["jwt"]["jwks"] = {{"uri", "https://issuer.example.com/jwks.json"}};
  const auto route = decoded(routeObject(
      "shop", "store",
      {{"hosts", {"shop.example.com"}}, {"rules", {rule("/"), rule("/api", uriAuth)}}}));
  EXPECT_TRUE(authSecretRefs(route).empty());
}

TEST(AuthSecretsTest, IndexNamesEachSecretOnceInTheRoutesNamespace) {
  const auto route =
      routeObject("shop", "store",
                  {{"hosts", {"shop.example.com"}},
                   {"auth", apiKeyAuth("keys")},
                   {"rules", {rule("/"), rule("/b", apiKeyAuth("keys", "other-key"))}}});
  EXPECT_EQ(apiRouteAuthSecretIndex(route), std::vector<std::string>{"shop/keys"});
  EXPECT_TRUE(apiRouteAuthSecretIndex(json{{"metadata", {{"name", "x"}}}, {"spec", 3}}).empty());
}

TEST(AuthSecretsTest, ResolvesOnlyTheReferencedKeysDecodedAndSaysWhatIsMissing) {
  kube::ThreadSafeStore secrets;
  put(secrets, secret("shop", "keys", {{"api-keys", "app: 0123456789abcdef"}, {"other", "x"}}));
  put(secrets, secret("shop", "jwks", {{"keys.json", "{}"}}));
  put(secrets, secret("other", "absent", {{"api-keys", "elsewhere"}}));
  const auto resolved = resolveAuthSecrets(
      "shop", {{"absent", "api-keys"}, {"jwks", "jwks.json"}, {"keys", "api-keys"}}, secrets);
  ASSERT_EQ(resolved.found.size(), 1u);
  const std::map<std::string, std::string> keys = {{"api-keys", "app: 0123456789abcdef"}};
  EXPECT_EQ(resolved.found.at("keys"), keys);
  const std::vector<std::string> missing = {"Secret shop/absent not found",
                                            "Secret shop/jwks has no key jwks.json"};
  EXPECT_EQ(resolved.missing, missing);
}

TEST(AuthSecretsTest, ASecretEventMapsToTheRoutesOfItsNamespaceThatNameIt) {
  kube::ThreadSafeStore routes;
  routes.addIndexer(kApiRoutesByAuthSecret, apiRouteAuthSecretIndex);
  const json spec = {
      {"hosts", {"a.example.com"}}, {"auth", apiKeyAuth("keys")}, {"rules", {rule("/")}}};
  put(routes, routeObject("shop", "a", spec));
  put(routes, routeObject("shop", "b",
                          {{"hosts", {"b.example.com"}},
                           {"rules", {rule("/"), rule("/x", apiKeyAuth("keys", "b-keys"))}}}));
  put(routes,
      routeObject("shop", "no-auth", {{"hosts", {"c.example.com"}}, {"rules", {rule("/")}}}));
  put(routes, routeObject("other", "same-name-elsewhere", spec));
  put(routes,
      routeObject("shop", "disabled",
                  {{"hosts", {"d.example.com"}}, {"rules", {rule("/", {{"disabled", true}})}}}));

  auto requests = routesNamingSecret(routes, secret("shop", "keys", {}));
  std::sort(requests.begin(), requests.end(),
            [](const auto& x, const auto& y) { return x.key() < y.key(); });
  const std::vector<kube::Request> want = {{"shop", "a"}, {"shop", "b"}};
  EXPECT_EQ(requests, want);
  EXPECT_TRUE(routesNamingSecret(routes, secret("shop", "unrelated", {})).empty());
}

}  // namespace
}  // namespace meshgate::op
