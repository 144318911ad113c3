// Resolving a route's `secretRef` (auth.jwt.jwks.secretRef, auth.apiKey.secretRef) against the
// config's `secrets[]`: the Secret of the route's namespace, else one without a namespace (a
// config file's). Used by validation (file mode refuses a reference it cannot resolve) and by the
// proxy when it compiles a rule's authentication (an unresolved one answers 503). Pure.
#pragma once

#include <string>
#include <string_view>

#include "api/auth.h"
#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

// The Secret `name` as `routeNamespace`'s routes see it; nullptr when there is none.
const SecretConfig* findSecret(const ProxyConfig& config, std::string_view routeNamespace,
                               std::string_view name);

// The value of `ref`'s key (`defaultKey` when the ref names none); nullptr when the Secret or the
// key is absent.
const std::string* findSecretValue(const ProxyConfig& config, std::string_view routeNamespace,
                                   const api::SecretKeyRef& ref, std::string_view defaultKey);

}  // namespace meshgate::dp
