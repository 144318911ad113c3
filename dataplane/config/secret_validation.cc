// Secrets and the references to them; see secret_validation.h.
#include "dataplane/config/secret_validation.h"

#include <set>
#include <utility>

#include "api/value_rules.h"
#include "dataplane/auth/api_key_set.h"
#include "dataplane/auth/jwk_set.h"
#include "dataplane/config/secret_lookup.h"

namespace meshgate::dp {
namespace {

using api::ErrorList;
using api::FieldError;
using api::FieldPath;

enum class SecretContent { Jwks, ApiKeys };

void validateRef(const ProxyConfig& config, const std::string& routeNamespace,
                 const api::SecretKeyRef& ref, std::string_view defaultKey, SecretContent content,
                 const FieldPath& path, ErrorList& errors) {
  if (ref.name.empty()) return;  // Required, reported by validateApiRoute
  const SecretConfig* secret = findSecret(config, routeNamespace, ref.name);
  if (!secret) {
    errors.push_back(
        FieldError::notFound(path.child("name"), ref.name, "no secret of that name in secrets[]"));
    return;
  }
  const std::string key = ref.key ? *ref.key : std::string(defaultKey);
  const auto it = secret->data.find(key);
  if (it == secret->data.end()) {
    errors.push_back(FieldError::notFound(path.child("key"), key,
                                          "secret \"" + ref.name + "\" has no such key"));
    return;
  }
  std::string problem;
  if (content == SecretContent::Jwks) {
    auto parsed = auth::JwkSet::parse(it->second);
    if (!parsed) problem = "not a usable JWKS: " + parsed.error();
  } else {
    auto parsed = auth::ApiKeySet::parse(it->second);
    if (!parsed) problem = "no usable API keys: " + parsed.error();
  }
  if (!problem.empty())
    errors.push_back(FieldError::invalid(path, ref.name + "/" + key, std::move(problem)));
}

void validateAuthRefs(const ProxyConfig& config, const std::string& routeNamespace,
                      const api::Auth& auth, const FieldPath& path, ErrorList& errors) {
  if (auth.jwt && auth.jwt->jwks.secretRef) {
    validateRef(config, routeNamespace, *auth.jwt->jwks.secretRef, api::kDefaultJwksKey,
                SecretContent::Jwks, path.child("jwt").child("jwks").child("secretRef"), errors);
  }
  if (auth.apiKey) {
    validateRef(config, routeNamespace, auth.apiKey->secretRef, api::kDefaultApiKeysKey,
                SecretContent::ApiKeys, path.child("apiKey").child("secretRef"), errors);
  }
}

}  // namespace

void validateSecrets(const std::vector<SecretConfig>& secrets, const FieldPath& path,
                     ErrorList& errors) {
  std::set<std::pair<std::string, std::string>> names;
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    const SecretConfig& secret = secrets[i];
    const FieldPath item = path.index(i);
    const FieldPath name = item.child("name");
    if (api::validateRequired(secret.name, name, errors)) {
      api::validateDnsSubdomain(secret.name, name, errors);
      if (!names.emplace(secret.namespace_, secret.name).second)
        errors.push_back(FieldError::duplicate(name, secret.name));
    }
    if (!secret.namespace_.empty())
      api::validateDnsLabel(secret.namespace_, item.child("namespace"), errors);
    // The file loader reads `files` into `data`; what is left came from elsewhere.
    if (!secret.files.empty())
      errors.push_back(
          FieldError::forbidden(item.child("files"), "only a config file reads files"));
    for (const auto& [key, value] : secret.data) {
      if (key.empty() || key.size() > api::kMaxDnsSubdomainLength)
        errors.push_back(
            FieldError::invalid(item.child("data"), key, "a key must have 1 to 253 characters"));
    }
  }
}

void validateRouteSecretRefs(const ProxyConfig& config, const api::ApiRoute& route,
                             const FieldPath& path, ErrorList& errors) {
  const std::string& ns = route.metadata.namespace_;
  const FieldPath spec = path.child("spec");
  if (route.spec.auth) validateAuthRefs(config, ns, *route.spec.auth, spec.child("auth"), errors);
  for (std::size_t r = 0; r < route.spec.rules.size(); ++r) {
    const auto& rule = route.spec.rules[r];
    if (rule.auth && !rule.auth->disabled.value_or(false)) {
      validateAuthRefs(config, ns, *rule.auth, spec.child("rules").index(r).child("auth"), errors);
    }
  }
}

}  // namespace meshgate::dp
