// What of an ApiRoute may be served; see route_admission.h.
#include "operator/route_admission.h"

#include <algorithm>
#include <optional>

#include "api/allowed_hosts.h"
#include "api/api_route_codec.h"
#include "api/api_route_validation.h"
#include "api/mesh_service_codec.h"
#include "api/route_conflicts.h"
#include "kube/informer.h"

namespace meshgate::op {

namespace {

// The route's hosts its namespace allows; the others go to `denied`.
std::vector<std::string> allowedHosts(const api::ApiRoute& route,
                                      const kube::ThreadSafeStore& namespaces,
                                      std::vector<std::string>& denied) {
  std::optional<std::vector<std::string>> globs;
  if (auto ns = namespaces.get(route.metadata.namespace_)) globs = api::allowedHostGlobs(*ns);
  std::vector<std::string> allowed;
  for (const auto& host : route.spec.hosts) {
    if (!globs || api::hostAllowed(host, *globs)) {
      allowed.push_back(host);
    } else {
      denied.push_back(host);
    }
  }
  return allowed;
}

std::string hostOfClaim(const std::string& claimHost) {
  const auto bar = claimHost.find('|');
  return bar == std::string::npos ? claimHost : claimHost.substr(bar + 1);
}

}  // namespace

std::vector<std::string> apiRouteBackendIndex(const nlohmann::json& route) {
  std::vector<std::string> out;
  const auto spec = route.find("spec");
  if (spec == route.end() || !spec->is_object()) return out;
  const std::string ns = route["metadata"].value("namespace", "");
  for (const auto& rule : spec->value("rules", nlohmann::json::array())) {
    if (!rule.is_object()) continue;
    for (const auto& backend : rule.value("backends", nlohmann::json::array())) {
      if (backend.is_object() && backend.contains("service") && backend["service"].is_string())
        out.push_back(ns + "/" + backend["service"].get<std::string>());
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Expected<RouteAdmission, api::ErrorList> admitRoute(const nlohmann::json& live,
                                                    const RouteAdmissionCaches& caches) {
  auto decoded = api::decodeApiRoute(live);
  if (!decoded.ok()) return decoded.errors;
  if (auto errors = api::validateApiRoute(*decoded.object); !errors.empty()) return errors;
  RouteAdmission out;
  out.route = std::move(*decoded.object);
  const api::ApiRoute& route = out.route;
  const std::string routeKey = kube::keyOf(live);

  // Hosts the namespace allows, then claims older routes already hold.
  out.plan.hosts = allowedHosts(route, caches.namespaces, out.deniedHosts);
  std::vector<kube::ObjectSharedPtr> candidates;
  for (const auto& host : api::apiRouteHostIndex(live)) {
    const auto named = caches.apiRoutes.byIndex(kApiRoutesByHost, host);
    candidates.insert(candidates.end(), named.begin(), named.end());
  }
  const std::vector<api::ApiRoute> competitors = api::competingRoutes(
      route, candidates, [&](const std::string& ns) { return caches.namespaces.get(ns); });
  api::ApiRoute admitted = route;
  admitted.spec.hosts = out.plan.hosts;
  std::vector<const api::ApiRoute*> contenders = {&admitted};
  for (const auto& competitor : competitors)
    contenders.push_back(&competitor);
  if (auto lost = api::resolveConflicts(contenders); lost.count(routeKey) > 0) {
    for (const auto& [claim, winner] : lost[routeKey]) {
      out.plan.lost.insert(claim);
      out.conflicts.push_back("host " + hostOfClaim(claim.host) + " " + claim.match +
                              " is served by the older ApiRoute " + winner);
    }
  }

  // References: every backend must name a port of a MeshService in this namespace.
  for (const auto& rule : route.spec.rules) {
    for (const auto& backend : rule.backends) {
      const std::string key = backendKey(backend);
      if (out.plan.missingBackends.count(key) > 0) continue;
      const std::string serviceKey = route.metadata.namespace_ + "/" + backend.service;
      const auto service = caches.meshServices.get(serviceKey);
      std::string problem;
      if (!service) {
        problem = "MeshService " + serviceKey + " not found";
      } else {
        auto ms = api::decodeMeshService(*service);
        const bool hasPort =
            ms.ok() &&
            std::any_of(ms.object->spec.ports.begin(), ms.object->spec.ports.end(),
                        [&](const api::ServicePort& p) { return p.port == backend.port; });
        if (!hasPort) {
          problem = "MeshService " + serviceKey + " has no port " + std::to_string(backend.port);
        }
      }
      if (!problem.empty()) {
        out.plan.missingBackends.insert(key);
        out.missingBackends.push_back(problem);
      }
    }
  }
  return out;
}

}  // namespace meshgate::op
