// ApiRoute reconcile: admission (validity, allowed hosts, conflicts), references, host
// certificate, Ingress, status.
#include "operator/api_route_reconciler.h"

#include "base/ascii.h"

#include <algorithm>
#include <set>

#include "api/allowed_hosts.h"
#include "api/api_route_codec.h"
#include "api/api_route_validation.h"
#include "api/field_error.h"
#include "api/mesh_service_codec.h"
#include "api/route_conflicts.h"
#include "api/schema_defaults.h"
#include "kube/wire_time.h"
#include "operator/api_route_ingress.h"
#include "operator/auth_secrets.h"
#include "operator/child_applier.h"
#include "operator/condition_set.h"
#include "operator/namespace_state.h"
#include "operator/owner_reference.h"
#include "operator/route_admission.h"
#include "operator/route_admission_conditions.h"
#include "operator/status_writer.h"

namespace meshgate::op {

namespace {
namespace status = api::condition_status;
namespace type = api::condition_type;
namespace reason = api::condition_reason;

}  // namespace

std::string hostCertificateSecretName(const std::string& routeName) {
  return routeName + "-meshgate-tls";
}

ApiRouteReconciler::ApiRouteReconciler(kube::RestClient& client, ApiRouteCaches caches,
                                       CertificateIssuer& issuer, const DataplaneStatus& dataplanes,
                                       kube::EventRecorder& events, kube::Clock& clock,
                                       ApiRouteReconcilerOptions options)
    : client_(client),
      caches_(caches),
      issuer_(issuer),
      dataplanes_(dataplanes),
      events_(events),
      goneNamespaces_(caches_.namespaces.store()),
      clock_(clock),
      options_(options) {}

std::vector<kube::Request> ApiRouteReconciler::routesSharingHosts(
    const nlohmann::json& route) const {
  std::set<std::string> keys;
  for (const auto& host : api::apiRouteHostIndex(route)) {
    for (const auto& other : caches_.apiRoutes.store().byIndex(kApiRoutesByHost, host))
      keys.insert(kube::keyOf(*other));
  }
  std::vector<kube::Request> out;
  for (const auto& key : keys)
    out.push_back(kube::Request::fromKey(key));
  return out;
}

kube::ReconcileResult ApiRouteReconciler::reconcile(const kube::Request& request) {
  const auto live = caches_.apiRoutes.store().get(request.key());
  if (!live) return kube::ReconcileResult::done();  // deleted: the garbage collector has the rest
  if (namespaceTerminating(caches_.namespaces.store(), request.ns) ||
      goneNamespaces_.isGone(request.ns))
    return kube::ReconcileResult::done();  // the namespace controller deletes it, or did
  auto decoded = api::decodeApiRoute(*live);
  const int64_t generation = (*live)["metadata"].value("generation", int64_t{0});
  StatusWriter statusWriter(client_, kube::resources::kApiRoutes, *live, &recentWrites_);
  api::ApiRouteStatus wanted;
  if (decoded.ok()) wanted = decoded.object->status;
  const api::ApiRouteStatus previous = wanted;
  wanted.observedGeneration = generation;
  ConditionSetter conditions(wanted.conditions, generation, kube::formatTime(clock_.wallNow()));
  // A Warning Event for a condition that newly turned False (not on every reconcile).
  auto warnIfNew = [&](std::string_view conditionType, const std::string& why,
                       const std::string& message) {
    const auto* before = findCondition(previous.conditions, conditionType);
    if (before == nullptr || before->reason != why || before->message != message)
      events_.record(*live, kube::EventType::Warning, why, "Reconcile", message);
  };

  auto admission = admitRoute(
      *live, {caches_.apiRoutes.store(), caches_.meshServices.store(), caches_.namespaces.store()});
  const ConditionVerdict accepted = acceptedCondition(admission);
  if (!admission) {
    const std::string& message = accepted.message;
    conditions.set(type::kAccepted, accepted.status, accepted.reason, message);
    conditions.set(type::kReady, status::kFalse, reason::kInvalid,
                   "the spec is invalid: " + message);
    warnIfNew(type::kAccepted, std::string(reason::kInvalid), message);
    if (auto written = statusWriter.write(wanted); !written.empty()) {
      return statusFailure(statusWriter, written, goneNamespaces_);
    }
    return kube::ReconcileResult::terminal("invalid spec: " + message);
  }
  const api::ApiRoute& route = admission->route;
  const std::string routeKey = request.key();
  IngressPlan plan = admission->plan;
  const std::vector<std::string>& denied = admission->deniedHosts;
  const std::vector<std::string>& conflicts = admission->conflicts;
  const std::vector<std::string>& missing = admission->missingBackends;

  conditions.set(type::kAccepted, accepted.status, accepted.reason, accepted.message);
  if (accepted.status != status::kTrue)
    warnIfNew(type::kAccepted, std::string(accepted.reason), accepted.message);

  // A missing backend leaves its rules out; a missing auth Secret leaves them served, answering
  // 503 (never open) until it comes. Both are listed; the reason names the graver one.
  const std::vector<std::string> missingSecrets =
      resolveAuthSecrets(route.metadata.namespace_, authSecretRefs(route),
                         caches_.authSecrets.store())
          .missing;
  const ConditionVerdict resolvedRefs = resolvedRefsCondition(*admission, missingSecrets);
  conditions.set(type::kResolvedRefs, resolvedRefs.status, resolvedRefs.reason,
                 resolvedRefs.message);
  if (resolvedRefs.status != status::kTrue)
    warnIfNew(type::kResolvedRefs, std::string(resolvedRefs.reason), resolvedRefs.message);

  // Host certificate (only when the route asks for TLS without naming a Secret).
  std::string certificateProblem;
  std::optional<std::chrono::system_clock::time_point> renewAt;
  if (route.spec.tls && !plan.hosts.empty()) {
    plan.tlsSecretName =
        route.spec.tls->secretName.value_or(hostCertificateSecretName(route.metadata.name));
    if (!route.spec.tls->secretName) {
      CertificateRequest certificate;
      certificate.ns = route.metadata.namespace_;
      certificate.secretName = plan.tlsSecretName;
      certificate.dnsNames = plan.hosts;
      std::sort(certificate.dnsNames.begin(), certificate.dnsNames.end());
      certificate.lifetime = options_.hostCertificateLifetime;
      certificate.ownerReferences =
          nlohmann::json::array({ownerReference(route.metadata, "ApiRoute", true)});
      if (auto issued = issuer_.ensure(certificate)) {
        renewAt = issued->renewAt;
        wanted.certificate =
            api::CertificateStatus{.secretName = issued->secretName, .notAfter = issued->notAfter};
        if (issued->written) {
          events_.record(*live, kube::EventType::Normal, "CertificateIssued", "Issue",
                         "Secret " + issued->secretName + ": " + issued->reason);
        }
      } else {
        certificateProblem = issued.error();
        events_.record(*live, kube::EventType::Warning, "CertificateFailed", "Issue",
                       certificateProblem);
      }
    }
  }

  // The Ingress of what is left.
  ChildApplier applier(client_, events_, *live, &recentWrites_);
  std::string programmedProblem;
  auto ingress = desiredIngress(route, plan);
  if (ingress) {
    programmedProblem =
        applier.apply(kube::resources::kIngresses, std::move(*ingress), caches_.ingresses.store());
  } else if (caches_.ingresses.store().get(routeKey)) {
    programmedProblem =
        applier.remove(kube::resources::kIngresses, route.metadata.namespace_, route.metadata.name);
  }
  // Programmed: the Ingress is applied and every connected gateway of the class serves this
  // generation.
  std::optional<ProgrammedCondition> programmed;
  if (!programmedProblem.empty()) {
    conditions.set(type::kProgrammed, status::kFalse, reason::kApplyFailed, programmedProblem);
    wanted.ingress.reset();
    wanted.dataplanes.reset();
  } else if (!ingress) {
    conditions.set(type::kProgrammed, status::kFalse, reason::kNothingToServe,
                   "no host, match and backend of this route is left to serve");
    wanted.ingress.reset();
    wanted.dataplanes.reset();
  } else {
    const std::string ingressClass =
        route.spec.ingressClassName.value_or(std::string(api::kDefaultIngressClassName));
    const DataplaneVerdict verdict = dataplanes_.apiRoute(
        route.metadata.namespace_, route.metadata.name, generation, ingressClass);
    programmed = programmedCondition(
        verdict, generation,
        "no gateway of ingress class " + ingressClass + " is connected to the operator");
    const bool rateLimited = std::any_of(route.spec.rules.begin(), route.spec.rules.end(),
                                         [](const api::RouteRule& r) { return r.rateLimit; });
    if (rateLimited) programmed->message += perReplicaRateLimitNote(verdict);
    conditions.set(type::kProgrammed, programmed->status, programmed->reason, programmed->message);
    if (programmed->reason == reason::kRefused) {
      warnIfNew(type::kProgrammed, programmed->reason, programmed->message);
    }
    wanted.ingress = route.metadata.name;
    wanted.dataplanes =
        api::DataplaneCounts{.programmed = verdict.programmed, .total = verdict.total};
  }

  if (!programmedProblem.empty()) {
    conditions.set(type::kReady, status::kFalse, reason::kNotProgrammed, programmedProblem);
  } else if (!certificateProblem.empty()) {
    conditions.set(type::kReady, status::kFalse, reason::kCertificateNotReady, certificateProblem);
  } else if (!ingress) {
    conditions.set(type::kReady, status::kFalse, reason::kNothingToServe,
                   "no host, match and backend of this route is left to serve");
  } else if (programmed->status != status::kTrue) {
    conditions.set(type::kReady, status::kFalse, programmed->reason, programmed->message);
  } else {
    conditions.set(
        type::kReady, status::kTrue, reason::kReady,
        std::to_string(plan.hosts.size()) + " host(s) served" +
            (missing.empty() && conflicts.empty() && denied.empty()
                 ? ""
                 : " (some rules are left out: see Accepted and ResolvedRefs)") +
            (missingSecrets.empty()
                 ? ""
                 : " (rules whose auth Secret is missing answer 503: see ResolvedRefs)"));
  }

  if (auto written = statusWriter.write(wanted); !written.empty()) {
    return statusFailure(statusWriter, written, goneNamespaces_);
  }
  if (!programmedProblem.empty()) return kube::ReconcileResult::retry(programmedProblem);
  if (!certificateProblem.empty()) return kube::ReconcileResult::retry(certificateProblem);
  if (renewAt) return requeueAtRenewal(*renewAt, clock_.wallNow());
  return kube::ReconcileResult::done();
}

}  // namespace meshgate::op
