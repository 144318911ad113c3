// ApiRoute validation with the cluster-aware admission policy; see
// webhook/admission/api_route_admission.h.
#include "webhook/admission/api_route_admission.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/allowed_hosts.h"
#include "api/api_route_codec.h"
#include "api/api_route_validation.h"
#include "api/field_error.h"
#include "api/field_path.h"
#include "api/mesh_service_codec.h"
#include "api/route_conflicts.h"
#include "webhook/admission/admission_errors.h"
#include "webhook/admission/admission_scope.h"

namespace meshgate::webhook {

namespace {

using api::FieldError;
using api::FieldPath;

FieldPath rulePath(std::size_t i) {
  return FieldPath("spec").child("rules").index(i);
}

// The annotation text exactly as the namespace has it, for messages; the globs themselves come
// from api::allowedHostGlobs so the webhook reads it as the operator does.
std::string annotationText(const nlohmann::json& namespaceObject) {
  const auto metadata = namespaceObject.find("metadata");
  if (metadata == namespaceObject.end() || !metadata->is_object()) return {};
  const auto annotations = metadata->find("annotations");
  if (annotations == metadata->end() || !annotations->is_object()) return {};
  const auto value = annotations->find(api::kAllowedHostsAnnotation);
  return value != annotations->end() && value->is_string() ? value->get<std::string>() : "";
}

// Hosts the namespace does not let this route claim get an error; the result marks them so the
// conflict check does not report them a second time.
std::vector<bool> checkAllowedHosts(const api::ApiRoute& route, const std::string& ns,
                                    const AdmissionPolicy& policy, const ClusterView& view,
                                    api::ErrorList& errors) {
  std::vector<bool> denied(route.spec.hosts.size(), false);
  const ObjectPtr namespaceObject = view.namespaceObject(ns);
  std::optional<std::vector<std::string>> globs;
  if (namespaceObject) globs = api::allowedHostGlobs(*namespaceObject);
  const FieldPath hostsPath = FieldPath("spec").child("hosts");
  for (std::size_t i = 0; i < route.spec.hosts.size(); ++i) {
    const std::string& host = route.spec.hosts[i];
    if (!globs) {
      if (!policy.requireAllowedHosts) continue;
      denied[i] = true;
      errors.push_back(FieldError::forbidden(
          hostsPath.index(i), "host " + api::quote(host) + " is not allowed: namespace " +
                                  api::quote(ns) + " has no " + api::kAllowedHostsAnnotation +
                                  " annotation and the webhook policy requires one"));
      continue;
    }
    if (api::hostAllowed(host, *globs)) continue;
    denied[i] = true;
    errors.push_back(FieldError::forbidden(hostsPath.index(i),
                                           "host " + api::quote(host) +
                                               " is not in this namespace's allowed hosts (" +
                                               api::kAllowedHostsAnnotation + ": " +
                                               api::quote(annotationText(*namespaceObject)) + ")"));
  }
  return denied;
}

// A competing route (api::competingRoutes: valid, only the hosts its namespace allows) with the
// claims it holds.
struct Competitor {
  api::ApiRoute route;
  std::set<api::RouteClaim> claims;
};

// The competitors for the hosts of `route` not skipped, narrowed by the webhook's own policy:
// other namespaces only (same-namespace collisions are the operator's to mark Conflicted), and
// on UPDATE only older routes. Oldest first, as competingRoutes orders them.
std::vector<Competitor> olderCompetitors(const api::ApiRoute& route, bool creating,
                                         const std::vector<bool>& skipHost,
                                         const ClusterView& view) {
  std::vector<ObjectPtr> candidates;
  for (std::size_t h = 0; h < route.spec.hosts.size(); ++h) {
    if (skipHost[h]) continue;
    const auto named = view.apiRoutesWithHost(route.spec.hosts[h]);
    candidates.insert(candidates.end(), named.begin(), named.end());
  }
  std::vector<api::ApiRoute> competing = api::competingRoutes(
      route, candidates, [&view](const std::string& ns) { return view.namespaceObject(ns); });
  std::vector<Competitor> out;
  for (api::ApiRoute& other : competing) {
    if (other.metadata.namespace_ == route.metadata.namespace_) continue;
    // A route being created has no creationTimestamp yet: everything stored is older.
    if (!creating && !api::olderThan(other, route)) continue;
    auto claims = api::claimsOf(other);
    out.push_back({std::move(other), {claims.begin(), claims.end()}});
  }
  return out;
}

// The claim one match of `route` makes on `host`, built by api::claimsOf itself so the key
// format (ingress class, host, canonical match) is exactly the operator's.
api::RouteClaim claimOf(const api::ApiRoute& route, const std::string& host,
                        const api::RouteMatch* match) {
  api::ApiRoute probe;
  probe.spec.ingressClassName = route.spec.ingressClassName;
  probe.spec.hosts = {host};
  api::RouteRule rule;
  if (match != nullptr) rule.matches = {*match};
  probe.spec.rules = {std::move(rule)};
  return api::claimsOf(probe).front();
}

void checkConflicts(const api::ApiRoute& route, bool creating, const std::vector<bool>& skipHost,
                    const ClusterView& view, api::ErrorList& errors) {
  const std::vector<Competitor> competitors = olderCompetitors(route, creating, skipHost, view);
  auto check = [&](const FieldPath& path, const api::RouteMatch* match) {
    for (std::size_t h = 0; h < route.spec.hosts.size(); ++h) {
      if (skipHost[h]) continue;
      const std::string& host = route.spec.hosts[h];
      const api::RouteClaim claim = claimOf(route, host, match);
      // Oldest first: the one the operator lets keep the claim.
      for (const Competitor& owner : competitors) {
        if (owner.claims.count(claim) == 0) continue;
        errors.push_back(FieldError::forbidden(
            path, "host " + api::quote(host) + " " + claim.match +
                      " is already served by the older ApiRoute " + api::keyOf(owner.route)));
        break;
      }
    }
  };
  for (std::size_t i = 0; i < route.spec.rules.size(); ++i) {
    const api::RouteRule& rule = route.spec.rules[i];
    if (rule.matches.empty()) check(rulePath(i), nullptr);
    for (std::size_t m = 0; m < rule.matches.size(); ++m) {
      check(rulePath(i).child("matches").index(m), &rule.matches[m]);
    }
  }
}

// Authentication that actually asks for credentials; `{}`, `{allowAnonymous: true}` alone and
// `{disabled: true}` do not.
bool authenticates(const std::optional<api::Auth>& auth) {
  return auth && !auth->disabled.value_or(false) && (auth->jwt || auth->apiKey);
}

void checkPolicyFlags(const api::ApiRoute& route, const AdmissionPolicy& policy,
                      api::ErrorList& errors) {
  if (policy.requireTLS && !route.spec.tls) {
    errors.push_back(FieldError::required(
        FieldPath("spec").child("tls"), "the webhook policy requires TLS on every ApiRoute host"));
  }
  for (std::size_t i = 0; i < route.spec.rules.size(); ++i) {
    const api::RouteRule& rule = route.spec.rules[i];
    if (policy.requireAuth && !authenticates(rule.auth ? rule.auth : route.spec.auth)) {
      errors.push_back(FieldError::required(
          rulePath(i).child("auth"), "the webhook policy requires authentication on every route"));
    }
    if (policy.maxRateLimitBurst > 0 && rule.rateLimit) {
      // Unset, the proxy uses `requests` as the burst, so that is what the policy judges.
      const std::int64_t burst = rule.rateLimit->burst.value_or(rule.rateLimit->requests);
      if (burst > policy.maxRateLimitBurst) {
        std::string detail = "must be no more than " + std::to_string(policy.maxRateLimitBurst) +
                             " (webhook policy maxRateLimitBurst)";
        if (!rule.rateLimit->burst) detail += "; unset, burst defaults to requests";
        errors.push_back(
            FieldError::invalid(rulePath(i).child("rateLimit").child("burst"), burst, detail));
      }
    }
  }
}

std::vector<std::string> backendWarnings(const api::ApiRoute& route, const ClusterView& view) {
  std::vector<std::string> warnings;
  const std::string& ns = route.metadata.namespace_;
  for (std::size_t i = 0; i < route.spec.rules.size(); ++i) {
    const auto& backends = route.spec.rules[i].backends;
    for (std::size_t b = 0; b < backends.size(); ++b) {
      const api::Backend& backend = backends[b];
      if (backend.service.empty() || backend.port == 0) continue;  // the validator reports it
      const FieldPath path = rulePath(i).child("backends").index(b);
      const ObjectPtr service = view.meshService(ns, backend.service);
      if (!service) {
        warnings.push_back(path.child("service").str() + ": MeshService " +
                           api::quote(backend.service) + " not found in namespace " +
                           api::quote(ns) + ": the route serves this backend once it exists");
        continue;
      }
      // As the operator decides BackendNotFound: a MeshService that does not decode has no port.
      auto decoded = api::decodeMeshService(*service);
      const bool hasPort =
          decoded.ok() &&
          std::any_of(decoded.object->spec.ports.begin(), decoded.object->spec.ports.end(),
                      [&](const api::ServicePort& p) { return p.port == backend.port; });
      if (!hasPort) {
        warnings.push_back(path.child("port").str() + ": MeshService " +
                           api::quote(backend.service) + " in namespace " + api::quote(ns) +
                           " has no port " + std::to_string(backend.port) +
                           ": the route serves this backend once the port exists");
      }
    }
  }
  return warnings;
}

// Allowed hosts, conflicts and the policy flags; conflicts only for a valid route (the operator
// resolves conflicts among valid routes only, so an invalid one claims nothing).
api::ErrorList policyErrors(const api::ApiRoute& route, bool isCreate, bool valid,
                            const WebhookConfig& config, const ClusterView& view) {
  api::ErrorList errors;
  const std::vector<bool> deniedHosts =
      checkAllowedHosts(route, route.metadata.namespace_, config.policy, view, errors);
  if (valid) checkConflicts(route, isCreate, deniedHosts, view, errors);
  checkPolicyFlags(route, config.policy, errors);
  return errors;
}

// Ratcheting, as Kubernetes does for rules that tighten over time: on UPDATE, a policy violation
// the stored object already had (a route from before the webhook, an allowed-hosts annotation
// narrowed since) does not block the update — GitOps must still be able to change a label. Such
// errors leave `errors` and come back as warnings; a violation the update adds still denies.
std::vector<std::string> ratchet(const AdmissionRequest& request, const WebhookConfig& config,
                                 const ClusterView& view, api::ErrorList& errors) {
  std::vector<std::string> warnings;
  if (errors.empty() || !request.oldObject.is_object()) return warnings;
  auto old = api::decodeApiRoute(request.oldObject);
  if (!old.ok()) return warnings;
  api::ApiRoute& before = *old.object;
  if (!request.namespace_.empty()) before.metadata.namespace_ = request.namespace_;
  if (before.metadata.name.empty()) before.metadata.name = request.name;
  std::set<std::string> existing;
  for (const auto& error : policyErrors(before, /*isCreate=*/false,
                                        api::validateApiRoute(before).empty(), config, view))
    existing.insert(error.toString());
  api::ErrorList added;
  for (auto& error : errors) {
    if (existing.count(error.toString()) > 0) {
      warnings.push_back(error.toString() +
                         " (allowed: the object was already so before this update)");
    } else {
      added.push_back(std::move(error));
    }
  }
  errors = std::move(added);
  return warnings;
}

}  // namespace

AdmissionDecision mutateApiRoute(const AdmissionRequest&) {
  return AdmissionDecision::allow();
}

AdmissionDecision validateApiRoute(const AdmissionRequest& request, const WebhookConfig& config,
                                   const ClusterView& view) {
  if (!isValidatedWrite(request)) return AdmissionDecision::allow();
  try {
    AdmissionErrors errors;
    auto decoded = api::decodeApiRoute(request.object);
    if (!decoded.ok()) {
      errors.object = decoded.errors;
      return decide(errors);
    }
    api::ApiRoute& route = *decoded.object;
    // The request names where the object goes, whatever its metadata says (it may omit them).
    if (!request.namespace_.empty()) route.metadata.namespace_ = request.namespace_;
    if (route.metadata.name.empty()) route.metadata.name = request.name;

    errors.object = api::validateApiRoute(route);
    errors.policy =
        policyErrors(route, request.operation == "CREATE", errors.object.empty(), config, view);
    std::vector<std::string> kept;
    if (request.operation == "UPDATE") kept = ratchet(request, config, view, errors.policy);

    AdmissionDecision decision = decide(errors);
    decision.warnings = backendWarnings(route, view);
    decision.warnings.insert(decision.warnings.end(), kept.begin(), kept.end());
    return decision;
  } catch (const std::exception& e) {
    return internalError(e.what());
  }
}

}  // namespace meshgate::webhook
