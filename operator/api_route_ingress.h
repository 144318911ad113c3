// The Ingress an ApiRoute stands for: class from spec.ingressClassName (default meshgate), one
// rule per served host, one path per match — PathPrefix → Prefix, Exact → Exact, a regex →
// ImplementationSpecific — and a tls section when spec.tls is set. Claims lost to older routes
// and backends that do not resolve are left out, so the rest of the route keeps serving. Each
// path points at the heaviest resolved backend of its rule (an Ingress path has one backend; the
// gateway itself splits traffic by weight from the ApiRoute). Pure.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_route.h"
#include "api/route_conflicts.h"

namespace meshgate::op {

struct IngressPlan {
  std::vector<std::string> hosts;         // the hosts this route may serve (allowed)
  std::set<api::RouteClaim> lost;         // (class|host, match) claims older routes hold
  std::set<std::string> missingBackends;  // "service:port" that name no MeshService port
  std::string tlsSecretName;              // "" → no tls section
};

// "service:port", the key of IngressPlan::missingBackends.
std::string backendKey(const api::Backend& backend);

// The Ingress (named like the route, owned by it); nullopt when no path is left to serve.
std::optional<nlohmann::json> desiredIngress(const api::ApiRoute& route, const IngressPlan& plan);

}  // namespace meshgate::op
