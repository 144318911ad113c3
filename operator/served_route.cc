// Admitted ApiRoute → the routes a gateway serves; see served_route.h.
#include "operator/served_route.h"

#include <map>
#include <string>
#include <utility>

#include "api/route_conflicts.h"
#include "api/schema_defaults.h"

namespace meshgate::op {

namespace {

// What one host keeps of the route: for each rule (by index) the indexes of its kept matches
// (-1 for a rule without matches, which claims "PathPrefix /").
using KeptMatches = std::map<std::size_t, std::vector<int>>;

// The rule with its unresolved backends removed; nullopt when nothing is left to do.
std::optional<api::RouteRule> resolvedRule(const api::RouteRule& rule,
                                           const std::set<std::string>& missing) {
  api::RouteRule out = rule;
  out.backends.clear();
  bool anyWeight = false;
  for (const auto& backend : rule.backends) {
    if (missing.count(backendKey(backend)) > 0) continue;
    anyWeight = anyWeight || backend.weight.value_or(1) > 0;
    out.backends.push_back(backend);
  }
  const bool redirects = rule.filters && rule.filters->redirect;
  if (redirects) return out;
  if (out.backends.empty() || !anyWeight) return std::nullopt;
  return out;
}

}  // namespace

std::vector<api::ApiRoute> servedRoutes(const RouteAdmission& admission) {
  const api::ApiRoute& route = admission.route;
  const IngressPlan& plan = admission.plan;
  const std::string ingressClass =
      route.spec.ingressClassName.value_or(std::string(api::kDefaultIngressClassName));

  std::vector<std::optional<api::RouteRule>> rules;
  for (const auto& rule : route.spec.rules)
    rules.push_back(resolvedRule(rule, plan.missingBackends));

  // Hosts grouped by what they keep, in the order of their first host.
  std::vector<std::pair<KeptMatches, std::vector<std::string>>> groups;
  for (const auto& host : plan.hosts) {
    KeptMatches kept;
    for (std::size_t r = 0; r < route.spec.rules.size(); ++r) {
      if (!rules[r]) continue;
      const auto& matches = route.spec.rules[r].matches;
      const auto lost = [&](const api::RouteMatch& match) {
        return plan.lost.count(
                   api::RouteClaim{ingressClass + "|" + host, api::canonicalMatch(match)}) > 0;
      };
      if (matches.empty()) {
        if (!lost(api::RouteMatch{})) kept[r].push_back(-1);
        continue;
      }
      for (std::size_t m = 0; m < matches.size(); ++m)
        if (!lost(matches[m])) kept[r].push_back(static_cast<int>(m));
    }
    if (kept.empty()) continue;
    auto group =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == kept; });
    if (group == groups.end()) {
      groups.emplace_back(std::move(kept), std::vector<std::string>{host});
    } else {
      group->second.push_back(host);
    }
  }

  std::vector<api::ApiRoute> out;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& [kept, hosts] = groups[g];
    api::ApiRoute piece;
    // Only what routing reads (precedence: creationTimestamp, namespace/name). resourceVersion,
    // labels and annotations change on every status write or relabel and would make a new
    // snapshot version of the same config.
    piece.metadata.name = route.metadata.name;
    piece.metadata.namespace_ = route.metadata.namespace_;
    piece.metadata.uid = route.metadata.uid;
    piece.metadata.generation = route.metadata.generation;
    piece.metadata.creationTimestamp = route.metadata.creationTimestamp;
    if (g > 0) piece.metadata.name += "." + std::to_string(g + 1);
    piece.spec = route.spec;
    piece.spec.hosts = hosts;
    if (piece.spec.tls) piece.spec.tls->secretName.reset();
    piece.spec.rules.clear();
    for (const auto& [r, matchIndexes] : kept) {
      api::RouteRule rule = *rules[r];
      if (!route.spec.rules[r].matches.empty()) {
        rule.matches.clear();
        for (const int m : matchIndexes)
          rule.matches.push_back(route.spec.rules[r].matches[static_cast<std::size_t>(m)]);
      }
      piece.spec.rules.push_back(std::move(rule));
    }
    out.push_back(std::move(piece));
  }
  return out;
}

}  // namespace meshgate::op
