// secretRef resolution; see secret_lookup.h.
#include "dataplane/config/secret_lookup.h"

namespace meshgate::dp {

const SecretConfig* findSecret(const ProxyConfig& config, std::string_view routeNamespace,
                               std::string_view name) {
  const SecretConfig* shared = nullptr;
  for (const auto& secret : config.secrets) {
    if (secret.name != name) continue;
    if (secret.namespace_ == routeNamespace) return &secret;
    if (secret.namespace_.empty() && !shared) shared = &secret;
  }
  return shared;
}

const std::string* findSecretValue(const ProxyConfig& config, std::string_view routeNamespace,
                                   const api::SecretKeyRef& ref, std::string_view defaultKey) {
  const SecretConfig* secret = findSecret(config, routeNamespace, ref.name);
  if (!secret) return nullptr;
  const auto it = secret->data.find(ref.key ? *ref.key : std::string(defaultKey));
  return it == secret->data.end() ? nullptr : &it->second;
}

}  // namespace meshgate::dp
