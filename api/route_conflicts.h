// Deterministic resolution of ApiRoutes that claim the same host + match: the oldest route wins
// (creationTimestamp, then namespace/name); a loser loses only the colliding (host, match) pairs
// and keeps serving the rest, so a conflict never takes a whole host down. Also which stored
// routes compete with a route at all (competingRoutes). Pure; used by the ApiRoute controller for
// status and for the Ingress it writes, and by the webhook to deny a route that would lose.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_route.h"

namespace meshgate::api {

// One (host, match) a route claims, in a canonical text form so equal matches compare equal.
struct RouteClaim {
  std::string host;
  std::string match;  // e.g. "PathPrefix /orders" or "Exact /a GET h:x-env=prod"
  bool operator<(const RouteClaim& other) const {
    return host != other.host ? host < other.host : match < other.match;
  }
  bool operator==(const RouteClaim&) const = default;
};

struct LostClaim {
  RouteClaim claim;
  std::string winner;  // namespace/name of the route that keeps it
};

// Every claim of a route: hosts × matches of every rule (a rule without matches claims
// "PathPrefix /"), within its ingress class.
std::vector<RouteClaim> claimsOf(const api::ApiRoute& route);

// Canonical text of one match.
std::string canonicalMatch(const api::RouteMatch& match);

// For each route (by namespace/name) the claims it loses; routes that lose nothing are absent.
std::map<std::string, std::vector<LostClaim>> resolveConflicts(
    const std::vector<const api::ApiRoute*>& routes);

// True when `a` is older than `b` in the winning order.
bool olderThan(const api::ApiRoute& a, const api::ApiRoute& b);

std::string keyOf(const api::ApiRoute& route);

// The hosts a stored ApiRoute object names, lower-cased: the key of the informer index that finds
// the routes which may contend for a host (operator and webhook). Tolerates any JSON shape.
std::vector<std::string> apiRouteHostIndex(const nlohmann::json& route);

// A stored object as the operator's informer caches and the webhook's ClusterView hand it out.
using StoredObjectPtr = std::shared_ptr<const nlohmann::json>;
// The Namespace object of that name, or null when it is not known (yet).
using NamespaceLookup = std::function<StoredObjectPtr(const std::string& name)>;

// The routes that compete with `route` for its hosts: the one rule the operator (what a route
// may serve) and the webhook (denying a route that would lose a claim) share. `candidates` are
// stored ApiRoute objects naming at least one of its hosts (what apiRouteHostIndex finds for each
// of them; repeats are fine). Not competing: `route` itself (same namespace/name), a candidate
// that does not decode or validate (an invalid route claims nothing), and one left with no host
// once its spec.hosts is cut to what its own namespace allows (allowed_hosts.h; a namespace the
// lookup does not know allows every host). Each competitor comes once, hosts so cut, oldest first
// (olderThan).
std::vector<api::ApiRoute> competingRoutes(const api::ApiRoute& route,
                                           const std::vector<StoredObjectPtr>& candidates,
                                           const NamespaceLookup& namespaces);

}  // namespace meshgate::api
