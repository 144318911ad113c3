// The Secrets ApiRoute auth names, and how they resolve; see auth_secrets.h.
#include "operator/auth_secrets.h"

#include <algorithm>
#include <set>

#include "api/api_route_codec.h"
#include "api/auth.h"
#include "operator/secret_data.h"

namespace meshgate::op {

namespace {

void addRefs(const api::Auth& auth, std::set<AuthSecretRef>& out) {
  if (auth.disabled.value_or(false)) return;
  if (auth.jwt && auth.jwt->jwks.secretRef) {
    const auto& ref = *auth.jwt->jwks.secretRef;
    out.insert({ref.name, ref.key.value_or(std::string(api::kDefaultJwksKey))});
  }
  if (auth.apiKey) {
    const auto& ref = auth.apiKey->secretRef;
    out.insert({ref.name, ref.key.value_or(std::string(api::kDefaultApiKeysKey))});
  }
}

}  // namespace

std::vector<AuthSecretRef> authSecretRefs(const api::ApiRoute& route) {
  std::set<AuthSecretRef> refs;
  if (route.spec.auth) addRefs(*route.spec.auth, refs);
  for (const auto& rule : route.spec.rules)
    if (rule.auth) addRefs(*rule.auth, refs);
  return {refs.begin(), refs.end()};
}

std::vector<std::string> apiRouteAuthSecretIndex(const nlohmann::json& route) {
  auto decoded = api::decodeApiRoute(route);
  if (!decoded.ok()) return {};
  std::vector<std::string> out;
  for (const auto& ref : authSecretRefs(*decoded.object))
    out.push_back(decoded.object->metadata.namespace_ + "/" + ref.name);
  out.erase(std::unique(out.begin(), out.end()), out.end());  // refs are sorted by name
  return out;
}

ResolvedAuthSecrets resolveAuthSecrets(const std::string& ns,
                                       const std::vector<AuthSecretRef>& refs,
                                       const kube::ThreadSafeStore& secrets) {
  ResolvedAuthSecrets out;
  for (const auto& ref : refs) {
    const std::string key = ns + "/" + ref.name;
    const auto secret = secrets.get(key);
    if (!secret) {
      out.missing.push_back("Secret " + key + " not found");
      continue;
    }
    const auto data = secret->find("data");
    if (data == secret->end() || !data->is_object() || !data->contains(ref.key)) {
      out.missing.push_back("Secret " + key + " has no key " + ref.key);
      continue;
    }
    out.found[ref.name][ref.key] = secretData(*secret, ref.key.c_str());
  }
  return out;
}

std::vector<kube::Request> routesNamingSecret(const kube::ThreadSafeStore& apiRoutes,
                                              const nlohmann::json& secret) {
  std::vector<kube::Request> out;
  for (const auto& key : apiRoutes.indexKeys(kApiRoutesByAuthSecret, kube::keyOf(secret)))
    out.push_back(kube::Request::fromKey(key));
  return out;
}

}  // namespace meshgate::op
