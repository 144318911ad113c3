// Route admission: what of an ApiRoute the gateway may serve — it must be valid; only the hosts
// its namespace allows (meshgate.io/allowed-hosts); not the (host, match) claims an older route
// holds (api/route_conflicts.h, oldest wins); not the backends that name no MeshService port.
// One function, so that what the ApiRoute controller writes in status (Accepted, ResolvedRefs),
// the Ingress it applies and the snapshot the gateways get (gateway_config_builder.h) always
// agree. Reads informer caches only; pure otherwise.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_route.h"
#include "api/field_error.h"
#include "base/expected.h"
#include "kube/thread_safe_store.h"
#include "operator/api_route_ingress.h"

namespace meshgate::op {

// Index of ApiRoutes by each lower-cased host they name (api::apiRouteHostIndex).
inline constexpr const char* kApiRoutesByHost = "byHost";
// Index of ApiRoutes by "<namespace>/<service>" of each backend.
inline constexpr const char* kApiRoutesByBackend = "byBackend";
std::vector<std::string> apiRouteBackendIndex(const nlohmann::json& route);

struct RouteAdmissionCaches {
  const kube::ThreadSafeStore& apiRoutes;  // with the kApiRoutesByHost index
  const kube::ThreadSafeStore& meshServices;
  const kube::ThreadSafeStore& namespaces;
};

struct RouteAdmission {
  api::ApiRoute route;  // decoded and valid
  // hosts = the allowed ones, lost = claims older routes hold, missingBackends = "service:port"
  // naming no MeshService port. tlsSecretName is left to the caller.
  IngressPlan plan;
  std::vector<std::string> deniedHosts;
  std::vector<std::string> conflicts;        // "host h PathPrefix /x is served by the older …"
  std::vector<std::string> missingBackends;  // "MeshService ns/x not found", "… has no port 80"
};

// The admission of a stored ApiRoute, or every reason it is invalid.
Expected<RouteAdmission, api::ErrorList> admitRoute(const nlohmann::json& live,
                                                    const RouteAdmissionCaches& caches);

}  // namespace meshgate::op
