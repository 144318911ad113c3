// Auth Secrets: the Kubernetes Secrets an ApiRoute's authentication names — the
// `jwt.jwks.secretRef` and `apiKey.secretRef` of `spec.auth` and of each rule's `auth` that is not
// `disabled`, all in the route's namespace — and what they resolve to in the cache of Secrets of
// type Opaque. One place for both readers, so that they always agree: the gateway snapshot
// (gateway_config_builder.h) carries the referenced keys, decoded, and the ApiRoute controller
// (api_route_reconciler.h) writes `ResolvedRefs=False, SecretNotFound` for each reference that
// does not resolve. Reads caches only; values are returned to the snapshot builder and never
// appear in a message or a log.
#pragma once

#include <compare>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_route.h"
#include "kube/reconciler.h"
#include "kube/thread_safe_store.h"

namespace meshgate::op {

// One key of one Secret in the route's namespace (the key defaulted: jwks.json, api-keys).
struct AuthSecretRef {
  std::string name;
  std::string key;

  auto operator<=>(const AuthSecretRef&) const = default;
};

// The references of a route's effective authentication, sorted, each once.
std::vector<AuthSecretRef> authSecretRefs(const api::ApiRoute& route);

// Index of ApiRoutes by "<namespace>/<secret>" of each Secret their auth names (nothing for a
// route that does not decode).
inline constexpr const char* kApiRoutesByAuthSecret = "byAuthSecret";
std::vector<std::string> apiRouteAuthSecretIndex(const nlohmann::json& route);

struct ResolvedAuthSecrets {
  // Secret name → the referenced keys it has → their values, base64-decoded.
  std::map<std::string, std::map<std::string, std::string>> found;
  // One line per reference that does not resolve, in reference order: "Secret ns/name not
  // found", "Secret ns/name has no key api-keys".
  std::vector<std::string> missing;
};

// `refs` of namespace `ns` against `secrets`, the cache of Opaque Secrets.
ResolvedAuthSecrets resolveAuthSecrets(const std::string& ns,
                                       const std::vector<AuthSecretRef>& refs,
                                       const kube::ThreadSafeStore& secrets);

// The ApiRoutes to reconcile again when `secret` appears, changes or goes: those of its namespace
// that name it. `apiRoutes` needs the kApiRoutesByAuthSecret index.
std::vector<kube::Request> routesNamingSecret(const kube::ThreadSafeStore& apiRoutes,
                                              const nlohmann::json& secret);

}  // namespace meshgate::op
