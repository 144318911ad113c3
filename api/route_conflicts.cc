// Oldest-wins conflict resolution over (ingress class, host, match) claims, and which stored
// routes take part in it.
#include "api/route_conflicts.h"

#include "api/allowed_hosts.h"
#include "api/api_route_codec.h"
#include "api/api_route_validation.h"
#include "base/ascii.h"

#include <algorithm>
#include <optional>
#include <set>

namespace meshgate::api {

std::string keyOf(const api::ApiRoute& route) {
  return route.metadata.namespace_ + "/" + route.metadata.name;
}

std::string canonicalMatch(const api::RouteMatch& match) {
  const std::string type = match.path && match.path->type
                               ? *match.path->type
                               : std::string(api::path_match::kPathPrefix);
  const std::string value = match.path && match.path->value ? *match.path->value : "/";
  std::string out = type + " " + value;
  if (match.method) out += " " + *match.method;
  auto describe = [](const char* prefix, std::vector<api::HeaderMatch> items, bool lowerNames) {
    std::vector<std::string> parts;
    for (auto& item : items) {
      std::string name = item.name;
      if (lowerNames) {
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      }
      const std::string op = item.type.value_or(std::string(api::value_match::kExact)) ==
                                     api::value_match::kRegularExpression
                                 ? "~"
                                 : "=";
      parts.push_back(prefix + name + op + item.value);
    }
    std::sort(parts.begin(), parts.end());
    std::string joined;
    for (const auto& part : parts)
      joined += " " + part;
    return joined;
  };
  // Header names are case-insensitive; query parameter names are not.
  out += describe("h:", match.headers, true);
  out += describe("q:", match.queryParams, false);
  return out;
}

std::vector<RouteClaim> claimsOf(const api::ApiRoute& route) {
  std::vector<std::string> matches;
  for (const auto& rule : route.spec.rules) {
    if (rule.matches.empty()) {
      matches.push_back(canonicalMatch({}));
    } else {
      for (const auto& match : rule.matches)
        matches.push_back(canonicalMatch(match));
    }
  }
  const std::string ingressClass = route.spec.ingressClassName.value_or("meshgate");
  std::vector<RouteClaim> claims;
  for (const auto& host : route.spec.hosts) {
    for (const auto& match : matches)
      claims.push_back({ingressClass + "|" + host, match});
  }
  std::sort(claims.begin(), claims.end());
  claims.erase(std::unique(claims.begin(), claims.end()), claims.end());
  return claims;
}

bool olderThan(const api::ApiRoute& a, const api::ApiRoute& b) {
  // RFC 3339 UTC timestamps of one format order as strings do.
  if (a.metadata.creationTimestamp != b.metadata.creationTimestamp) {
    return a.metadata.creationTimestamp < b.metadata.creationTimestamp;
  }
  return keyOf(a) < keyOf(b);
}

std::map<std::string, std::vector<LostClaim>> resolveConflicts(
    const std::vector<const api::ApiRoute*>& routes) {
  std::vector<const api::ApiRoute*> ordered = routes;
  std::sort(ordered.begin(), ordered.end(),
            [](const api::ApiRoute* a, const api::ApiRoute* b) { return olderThan(*a, *b); });
  std::map<RouteClaim, std::string> owners;
  std::map<std::string, std::vector<LostClaim>> lost;
  for (const auto* route : ordered) {
    const std::string key = keyOf(*route);
    for (const auto& claim : claimsOf(*route)) {
      auto [it, inserted] = owners.emplace(claim, key);
      if (!inserted && it->second != key) lost[key].push_back({claim, it->second});
    }
  }
  return lost;
}

std::vector<std::string> apiRouteHostIndex(const nlohmann::json& route) {
  std::vector<std::string> out;
  const auto spec = route.find("spec");
  if (spec == route.end() || !spec->is_object()) return out;
  for (const auto& host : spec->value("hosts", nlohmann::json::array())) {
    if (host.is_string()) out.push_back(meshgate::asciiLower(host.get<std::string>()));
  }
  return out;
}

std::vector<api::ApiRoute> competingRoutes(const api::ApiRoute& route,
                                           const std::vector<StoredObjectPtr>& candidates,
                                           const NamespaceLookup& namespaces) {
  std::vector<api::ApiRoute> out;
  std::set<std::string> seen = {keyOf(route)};
  for (const StoredObjectPtr& candidate : candidates) {
    if (!candidate) continue;
    auto decoded = api::decodeApiRoute(*candidate);
    if (!decoded.ok()) continue;
    api::ApiRoute& other = *decoded.object;
    if (!seen.insert(keyOf(other)).second) continue;
    if (!api::validateApiRoute(other).empty()) continue;
    std::optional<std::vector<std::string>> globs;
    if (const StoredObjectPtr ns = namespaces(other.metadata.namespace_)) {
      globs = api::allowedHostGlobs(*ns);
    }
    if (globs) {
      std::erase_if(other.spec.hosts,
                    [&](const std::string& host) { return !api::hostAllowed(host, *globs); });
    }
    if (other.spec.hosts.empty()) continue;
    out.push_back(std::move(other));
  }
  std::sort(out.begin(), out.end(),
            [](const api::ApiRoute& a, const api::ApiRoute& b) { return olderThan(a, b); });
  return out;
}

}  // namespace meshgate::api
