// Building the virtual hosts of a snapshot and selecting a rule.
#include "dataplane/router/route_table.h"

#include "base/ascii.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <tuple>

#include "dataplane/router/host_match.h"

namespace meshgate::dp {

namespace {

// Sort key: smaller sorts first (wins).
auto precedence(const RequestMatch& m, size_t order) {
  const size_t length = m.pathKind() == PathKind::Regex ? 0 : m.pathLength();
  return std::make_tuple(static_cast<int>(m.pathKind()), -static_cast<long>(length),
                         m.hasMethod() ? 0 : 1, -static_cast<long>(m.headerCount()),
                         -static_cast<long>(m.queryCount()), order);
}
}  // namespace

Expected<RouteTable, std::string> RouteTable::build(const std::vector<api::ApiRoute>& routes) {
  // Older routes first: RFC 3339 UTC timestamps of one format order as strings do.
  std::vector<size_t> byAge(routes.size());
  std::iota(byAge.begin(), byAge.end(), 0);
  std::stable_sort(byAge.begin(), byAge.end(), [&](size_t a, size_t b) {
    const auto& x = routes[a].metadata;
    const auto& y = routes[b].metadata;
    return std::tie(x.creationTimestamp, x.namespace_, x.name) <
           std::tie(y.creationTimestamp, y.namespace_, y.name);
  });

  std::map<std::string, VirtualHost> hosts;
  size_t order = 0;
  for (const size_t routeIndex : byAge) {
    const auto& route = routes[routeIndex];
    for (size_t ruleIndex = 0; ruleIndex < route.spec.rules.size(); ruleIndex++) {
      std::vector<api::RouteMatch> matches = route.spec.rules[ruleIndex].matches;
      if (matches.empty()) matches.emplace_back();
      for (size_t matchIndex = 0; matchIndex < matches.size(); matchIndex++) {
        auto compiled = RequestMatch::compile(matches[matchIndex]);
        if (!compiled) {
          return "ApiRoute " + route.metadata.namespace_ + "/" + route.metadata.name +
                 ": spec.rules[" + std::to_string(ruleIndex) + "].matches[" +
                 std::to_string(matchIndex) + "]: " + compiled.error();
        }
        for (const auto& host : route.spec.hosts) {
          auto& vhost = hosts[asciiLower(host)];
          vhost.pattern = asciiLower(host);
          vhost.entries.push_back(
              {*compiled, RouteTarget{.route = routeIndex, .rule = ruleIndex}, order});
        }
        order++;
      }
    }
  }

  RouteTable table;
  for (auto& [pattern, vhost] : hosts) {
    std::stable_sort(vhost.entries.begin(), vhost.entries.end(),
                     [](const Entry& a, const Entry& b) {
                       return precedence(a.match, a.order) < precedence(b.match, b.order);
                     });
    table.hosts_.push_back(std::move(vhost));
  }
  std::stable_sort(table.hosts_.begin(), table.hosts_.end(),
                   [](const VirtualHost& a, const VirtualHost& b) {
                     return hostSpecificity(a.pattern) > hostSpecificity(b.pattern);
                   });
  return table;
}

std::optional<RouteTarget> RouteTable::select(const RequestView& request) const {
  // Hosts clients send are nearly always lower-case without a port: use them as they are and
  // normalize (an allocation) only otherwise.
  const bool alreadyNormal = std::none_of(request.host.begin(), request.host.end(), [](char c) {
    return c == ':' || c == '[' || (c >= 'A' && c <= 'Z');
  });
  std::string normalized;
  if (!alreadyNormal) normalized = normalizeHost(request.host);
  const std::string_view host = alreadyNormal ? request.host : std::string_view(normalized);
  for (const auto& vhost : hosts_) {
    if (!hostMatches(vhost.pattern, host)) continue;
    for (const auto& entry : vhost.entries) {
      if (entry.match.matches(request)) return entry.target;
    }
    return std::nullopt;  // the most specific host decides alone
  }
  return std::nullopt;
}

}  // namespace meshgate::dp
