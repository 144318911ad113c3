// Semantic validation of a decoded ProxyConfig against docs/PROXY_CONFIG.md: called by the file
// loader (proxy_config_loader.h) and by whoever hands the proxy a snapshot built in code, before
// the proxy compiles it. Complete: every rule of the document, each route through
// api::validateApiRoute (paths prefixed `routes[i].`), references from routes to clusters and
// subsets, regex compilation through RouteTable::build, and route features the proxy does not
// implement yet are refused rather than ignored. Returns every error in document order; never
// throws. Pure except for reading the TLS files it names (listener certificates and keys,
// upstream CA bundles), which it parses with OpenSSL.
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

// `validatedRoutes`: the routes of the config serving now, which passed this validation. When
// config.routes equals them (an endpoint-only change), only their references to clusters are
// checked again — not every rule and regex.
api::ErrorList validateProxyConfig(const ProxyConfig& config,
                                   const std::vector<api::ApiRoute>* validatedRoutes = nullptr);

}  // namespace meshgate::dp
