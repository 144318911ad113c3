// ApiRoute → Ingress.
#include "operator/api_route_ingress.h"

#include "api/schema_defaults.h"
#include "operator/owner_reference.h"

namespace meshgate::op {

namespace {

// Ingress path and pathType of one match. A regex keeps its text when it is anchored at a path
// ("^/v[0-9]+/" → "/v[0-9]+/"); any other regex is served from "/" and the gateway applies it.
std::pair<std::string, std::string> ingressPath(const api::RouteMatch& match) {
  const std::string type = match.path && match.path->type
                               ? *match.path->type
                               : std::string(api::path_match::kPathPrefix);
  const std::string value = match.path && match.path->value ? *match.path->value : "/";
  if (type == api::path_match::kExact) return {value, "Exact"};
  if (type == api::path_match::kRegularExpression) {
    if (value.rfind("^/", 0) == 0) return {value.substr(1), "ImplementationSpecific"};
    if (value.rfind('/', 0) == 0) return {value, "ImplementationSpecific"};
    return {"/", "ImplementationSpecific"};
  }
  return {value, "Prefix"};
}

const api::Backend* heaviestResolved(const api::RouteRule& rule,
                                     const std::set<std::string>& missing) {
  const api::Backend* best = nullptr;
  for (const auto& backend : rule.backends) {
    if (missing.count(backendKey(backend)) > 0) continue;
    if (backend.weight.value_or(1) == 0) continue;
    if (best == nullptr || backend.weight.value_or(1) > best->weight.value_or(1)) best = &backend;
  }
  return best;
}

}  // namespace

std::string backendKey(const api::Backend& backend) {
  return backend.service + ":" + std::to_string(backend.port);
}

std::optional<nlohmann::json> desiredIngress(const api::ApiRoute& route, const IngressPlan& plan) {
  const std::string ingressClass =
      route.spec.ingressClassName.value_or(std::string(api::kDefaultIngressClassName));
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& host : plan.hosts) {
    nlohmann::json paths = nlohmann::json::array();
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& rule : route.spec.rules) {
      const api::Backend* backend = heaviestResolved(rule, plan.missingBackends);
      if (backend == nullptr) continue;  // nothing to send it to (or a redirect-only rule)
      std::vector<api::RouteMatch> matches = rule.matches;
      if (matches.empty()) matches.emplace_back();
      for (const auto& match : matches) {
        if (plan.lost.count(
                api::RouteClaim{ingressClass + "|" + host, api::canonicalMatch(match)}) > 0)
          continue;
        auto [path, pathType] = ingressPath(match);
        if (!seen.insert({path, pathType}).second) continue;
        paths.push_back(
            {{"path", path},
             {"pathType", pathType},
             {"backend",
              {{"service", {{"name", backend->service}, {"port", {{"number", backend->port}}}}}}}});
      }
    }
    if (!paths.empty()) rules.push_back({{"host", host}, {"http", {{"paths", paths}}}});
  }
  if (rules.empty()) return std::nullopt;
  nlohmann::json ingress = {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "Ingress"},
      {"metadata", childMetadata(route.metadata.name, route.metadata, "ApiRoute")},
      {"spec", {{"ingressClassName", ingressClass}, {"rules", rules}}}};
  if (!plan.tlsSecretName.empty()) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& rule : rules)
      hosts.push_back(rule["host"]);
    ingress["spec"]["tls"] =
        nlohmann::json::array({{{"hosts", hosts}, {"secretName", plan.tlsSecretName}}});
  }
  return ingress;
}

}  // namespace meshgate::op
