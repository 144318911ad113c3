// RouteTable picks the rule that serves a request, from a snapshot of ApiRoutes. One virtual host
// per route host (host_match.h: exact before wildcards, longer wildcard first); the request goes
// to the most specific host that matches, and only that host's matches are tried, in precedence
// order: Exact path, then PathPrefix (longer first), then RegularExpression; then a match with a
// method; then more header matches; then more query-parameter matches; then the older route
// (creationTimestamp, then namespace/name, as the operator's conflict resolution), rule order and
// match order. A rule without matches is PathPrefix "/". Immutable once built.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/api_route.h"
#include "base/expected.h"
#include "dataplane/router/request_match.h"
#include "dataplane/router/request_view.h"

namespace meshgate::dp {

// Which rule serves a request: indexes into the routes given to build().
struct RouteTarget {
  size_t route = 0;
  size_t rule = 0;
  bool operator==(const RouteTarget&) const = default;
};

class RouteTable {
 public:
  // Fails naming the route and the match when a regex does not compile.
  static Expected<RouteTable, std::string> build(const std::vector<api::ApiRoute>& routes);

  // nullopt: no host or no match (the proxy answers 404).
  std::optional<RouteTarget> select(const RequestView& request) const;

 private:
  struct Entry {
    RequestMatch match;
    RouteTarget target;
    size_t order;  // route age rank, rule and match position
  };
  struct VirtualHost {
    std::string pattern;         // lower-case
    std::vector<Entry> entries;  // in precedence order
  };
  std::vector<VirtualHost> hosts_;  // most specific first
};

}  // namespace meshgate::dp
