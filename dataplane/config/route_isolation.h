// Route isolation for streamed snapshots (docs/CONFIG_STREAM.md): one route the proxy refuses
// must not block every other change. A snapshot whose only errors lie inside routes is applied
// with each refused route replaced by its last good form (the one the proxy served before), or
// left out when it never had one; the refused routes are reported in the ACK. Errors outside
// any single route (listeners, certificates, clusters) still refuse the whole snapshot (a NACK).
// Pure except for the TLS files validation reads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "api/field_error.h"
#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

struct IsolatedConfig {
  ProxyConfig config;  // valid when `errors` is empty
  // "<namespace>/<name>" of each refused route → its errors, paths relative to the route.
  std::map<std::string, std::vector<std::string>> refused;
  api::ErrorList errors;  // non-empty: refuse the whole snapshot
};

// "<namespace>/<name>" of a route.
std::string routeKey(const api::ApiRoute& route);

// `lastGood`: the routes of the config served now, by routeKey; `serving`, the same in order
// (when the new config has exactly these routes, validation only checks their cluster
// references: see validateProxyConfig).
IsolatedConfig isolateRefusedRoutes(ProxyConfig config,
                                    const std::map<std::string, api::ApiRoute>& lastGood,
                                    const std::vector<api::ApiRoute>* serving = nullptr);

}  // namespace meshgate::dp
