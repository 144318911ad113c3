// Validation of the config's `secrets[]` and of the routes' references into them
// (docs/PROXY_CONFIG.md): names, namespaces and keys of each Secret; and, where references must
// resolve (a config file), that each `secretRef` of a route's auth names a Secret and key that
// exist and hold what the reference needs — a JWKS with usable signing keys, API keys in their
// format. Errors quote names and paths, never a secret's content. Called by
// validateProxyConfig; pure.
#pragma once

#include "api/field_error.h"
#include "api/field_path.h"
#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

void validateSecrets(const std::vector<SecretConfig>& secrets, const api::FieldPath& path,
                     api::ErrorList& errors);

// `path`: the route's (routes[i]).
void validateRouteSecretRefs(const ProxyConfig& config, const api::ApiRoute& route,
                             const api::FieldPath& path, api::ErrorList& errors);

}  // namespace meshgate::dp
