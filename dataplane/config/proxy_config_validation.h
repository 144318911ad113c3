// Semantic validation of a decoded ProxyConfig against docs/PROXY_CONFIG.md: called by the file
// loader (proxy_config_loader.h) and by whoever hands the proxy a snapshot built in code, before
// the proxy compiles it. Complete: every rule of the document, each route through
// api::validateApiRoute (paths prefixed `routes[i].`), references from routes to clusters,
// subsets and secrets (secret_validation.h), regex compilation through RouteTable::build, and
// route features the proxy does not implement are refused rather than ignored. Returns every error
// in document order; never throws. Pure except for reading the TLS files it names (listener
// certificates and keys, upstream CA bundles), which it parses with OpenSSL.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "api/field_error.h"
#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

// The detail of every refused route feature.
inline constexpr std::string_view kNotSupportedYet = "not supported by meshgate-proxy yet";

inline constexpr std::size_t kMaxVersionLength = 128;

// Where the config comes from, which decides what may be incomplete in it:
// - kFile: a config file, where an incomplete reference is a typo: every route's `secretRef`
//   must resolve to a Secret of `secrets[]` holding what it needs, and every cluster needs an
//   endpoint.
// - kControlPlane: the operator's stream, which mirrors the cluster as it is: a Secret may be
//   missing (the rule answers 503 until it exists, and the route's status says SecretNotFound)
//   and a cluster may have no endpoint (its MeshService selects no ready pod yet, or was scaled
//   to zero: its routes answer 503 "no endpoint", as Envoy's empty clusters do, and every other
//   route keeps serving).
enum class ConfigSource { kFile, kControlPlane };

// `validatedRoutes`: the routes of the config serving now, which passed this validation. When
// config.routes equals them (an endpoint-only change), only their references to clusters are
// checked again — not every rule and regex.
api::ErrorList validateProxyConfig(const ProxyConfig& config,
                                   const std::vector<api::ApiRoute>* validatedRoutes = nullptr,
                                   ConfigSource source = ConfigSource::kFile);

}  // namespace meshgate::dp
