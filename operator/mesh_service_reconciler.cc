// MeshService reconcile: children, identity certificate, status.
#include "operator/mesh_service_reconciler.h"

#include <algorithm>

#include "api/field_error.h"
#include "api/mesh_service_codec.h"
#include "api/mesh_service_validation.h"
#include "kube/wire_time.h"
#include "operator/child_applier.h"
#include "operator/condition_set.h"
#include "operator/mesh_service_children.h"
#include "operator/namespace_state.h"
#include "operator/owner_reference.h"
#include "operator/status_writer.h"

namespace meshgate::op {

namespace {
namespace status = api::condition_status;
namespace type = api::condition_type;

}  // namespace

std::string identitySecretName(const std::string& serviceAccount) {
  return "meshgate-identity-" + serviceAccount;
}

std::vector<std::string> meshServiceAccountIndex(const nlohmann::json& meshService) {
  const auto& metadata = meshService.at("metadata");
  std::string account = metadata.value("name", "");
  const auto spec = meshService.find("spec");
  if (spec != meshService.end() && spec->is_object()) {
    const auto named = spec->find("serviceAccount");
    if (named != spec->end() && named->is_string()) account = named->get<std::string>();
  }
  return {metadata.value("namespace", "") + "/" + account};
}

std::vector<std::string> endpointSliceServiceIndex(const nlohmann::json& slice) {
  const auto& metadata = slice.at("metadata");
  auto labels = metadata.find("labels");
  if (labels == metadata.end()) return {};
  auto service = labels->find("kubernetes.io/service-name");
  if (service == labels->end() || !service->is_string()) return {};
  return {metadata.value("namespace", "") + "/" + service->get<std::string>()};
}

MeshServiceReconciler::MeshServiceReconciler(kube::RestClient& client, MeshServiceCaches caches,
                                             CertificateIssuer& issuer,
                                             const DataplaneStatus& dataplanes,
                                             kube::EventRecorder& events, kube::Clock& clock,
                                             MeshServiceReconcilerOptions options)
    : client_(client),
      caches_(caches),
      issuer_(issuer),
      dataplanes_(dataplanes),
      events_(events),
      goneNamespaces_(caches_.namespaces.store()),
      clock_(clock),
      options_(std::move(options)) {}

kube::ReconcileResult MeshServiceReconciler::reconcile(const kube::Request& request) {
  const auto live = caches_.meshServices.store().get(request.key());
  if (!live) return kube::ReconcileResult::done();  // deleted: the garbage collector has the rest
  if (namespaceTerminating(caches_.namespaces.store(), request.ns) ||
      goneNamespaces_.isGone(request.ns))
    return kube::ReconcileResult::done();  // the namespace controller deletes it, or did
  auto decoded = api::decodeMeshService(*live);
  const std::string now = kube::formatTime(clock_.wallNow());
  const int64_t generation = (*live)["metadata"].value("generation", int64_t{0});
  StatusWriter statusWriter(client_, kube::resources::kMeshServices, *live);

  api::MeshServiceStatus wanted;
  if (decoded.ok()) wanted = decoded.object->status;
  wanted.observedGeneration = generation;
  ConditionSetter conditions(wanted.conditions, generation, now);

  api::ErrorList errors = decoded.errors;
  if (decoded.ok()) errors = api::validateMeshService(*decoded.object);
  if (!errors.empty()) {
    const std::string message = api::joinErrors(errors);
    conditions.set(type::kAccepted, status::kFalse, api::condition_reason::kInvalid, message);
    conditions.set(type::kReady, status::kFalse, api::condition_reason::kInvalid,
                   "the spec is invalid: " + message);
    events_.record(*live, kube::EventType::Warning, "Invalid", "Validate", message);
    if (auto written = statusWriter.write(wanted); !written.empty()) {
      return statusFailure(statusWriter, written, goneNamespaces_);
    }
    return kube::ReconcileResult::terminal("invalid spec: " + message);
  }
  const api::MeshService& ms = *decoded.object;
  conditions.set(type::kAccepted, status::kTrue, api::condition_reason::kAccepted, "");

  // Children.
  ChildApplier applier(client_, events_, *live);
  std::string programmedProblem;
  if (auto problem =
          applier.apply(kube::resources::kServices, desiredService(ms), caches_.services.store());
      !problem.empty()) {
    programmedProblem = problem;
  }
  std::vector<std::string> wantedSlices;
  for (auto& slice : desiredEndpointSlices(ms)) {
    wantedSlices.push_back(slice["metadata"]["name"].get<std::string>());
    if (auto problem = applier.apply(kube::resources::kEndpointSlices, std::move(slice),
                                     caches_.endpointSlices.store());
        !problem.empty() && programmedProblem.empty()) {
      programmedProblem = problem;
    }
  }
  // Static slices we own but no longer want (an endpoint family or port went away).
  const std::string serviceKey = request.key();
  for (const auto& slice :
       caches_.endpointSlices.store().byIndex(kEndpointSlicesByService, serviceKey)) {
    const auto& labels = (*slice)["metadata"].value("labels", nlohmann::json::object());
    if (labels.value("endpointslice.kubernetes.io/managed-by", "") != kEndpointSliceManager)
      continue;
    const std::string name = (*slice)["metadata"]["name"];
    if (std::find(wantedSlices.begin(), wantedSlices.end(), name) != wantedSlices.end()) continue;
    if (auto problem =
            applier.remove(kube::resources::kEndpointSlices, ms.metadata.namespace_, name);
        !problem.empty() && programmedProblem.empty()) {
      programmedProblem = problem;
    }
  }
  // Programmed: the children are applied and every connected proxy that carries this
  // MeshService serves its generation. None carrying it is said (NoDataplane) but does not make
  // the service unready: nothing routes to it through meshgate yet.
  std::optional<ProgrammedCondition> programmed;
  if (programmedProblem.empty()) {
    programmed = programmedCondition(
        dataplanes_.meshService(ms.metadata.namespace_, ms.metadata.name, generation), generation,
        "Service " + ms.metadata.name + " and " + std::to_string(wantedSlices.size()) +
            " static EndpointSlice(s) are applied; no connected dataplane carries this "
            "MeshService (no gateway serves a route to it)");
    conditions.set(type::kProgrammed, programmed->status, programmed->reason, programmed->message);
  } else {
    conditions.set(type::kProgrammed, status::kFalse, "ApplyFailed", programmedProblem);
  }
  conditions.set(type::kResolvedRefs, status::kTrue, api::condition_reason::kResolvedRefs, "");

  // Identity.
  const std::string serviceAccount = serviceAccountOf(ms);
  const std::string identity =
      spiffeId(options_.trustDomain, ms.metadata.namespace_, serviceAccount);
  wanted.identity = identity;
  CertificateRequest certificate;
  certificate.ns = ms.metadata.namespace_;
  certificate.secretName = identitySecretName(serviceAccount);
  certificate.uris = {identity};
  certificate.lifetime = options_.workloadCertificateLifetime;
  // Every MeshService running as this service account owns the Secret together.
  for (const auto& other : caches_.meshServices.store().byIndex(
           kMeshServicesByServiceAccount, ms.metadata.namespace_ + "/" + serviceAccount)) {
    auto otherDecoded = api::decodeMeshService(*other);
    if (otherDecoded.ok()) {
      certificate.ownerReferences.push_back(
          ownerReference(otherDecoded.object->metadata, "MeshService", false));
    }
  }
  std::sort(certificate.ownerReferences.begin(), certificate.ownerReferences.end(),
            [](const nlohmann::json& a, const nlohmann::json& b) { return a["uid"] < b["uid"]; });
  std::optional<std::chrono::system_clock::time_point> renewAt;
  bool certificateReady = false;
  auto issued = issuer_.ensure(certificate);
  if (issued) {
    certificateReady = true;
    renewAt = issued->renewAt;
    wanted.certificate =
        api::CertificateStatus{.secretName = issued->secretName, .notAfter = issued->notAfter};
    conditions.set(
        type::kCertificateReady, status::kTrue, "Issued",
        "Secret " + issued->secretName + " holds " + identity + " until " + issued->notAfter);
    if (issued->written) {
      events_.record(*live, kube::EventType::Normal, "CertificateIssued", "Issue",
                     "Secret " + issued->secretName + ": " + issued->reason);
    }
  } else {
    conditions.set(type::kCertificateReady, status::kFalse, "IssueFailed", issued.error());
    events_.record(*live, kube::EventType::Warning, "CertificateFailed", "Issue", issued.error());
  }

  // Endpoints and readiness.
  std::vector<const nlohmann::json*> slices;
  const auto sliceObjects =
      caches_.endpointSlices.store().byIndex(kEndpointSlicesByService, serviceKey);
  for (const auto& slice : sliceObjects)
    slices.push_back(slice.get());
  wanted.endpoints = countEndpoints(slices);
  // Static endpoints no EndpointSlice can hold (loopback, link-local) are served by the proxy
  // from its config all the same: count them as ready.
  for (const auto& endpoint : ms.spec.endpoints) {
    if (!isSliceAddress(endpoint.address)) {
      wanted.endpoints->total++;
      wanted.endpoints->ready++;
    }
  }
  if (!programmedProblem.empty()) {
    conditions.set(type::kReady, status::kFalse, "NotProgrammed", programmedProblem);
  } else if (!certificateReady) {
    conditions.set(type::kReady, status::kFalse, "CertificateNotReady", issued.error());
  } else if (programmed->status != status::kTrue &&
             programmed->reason != programmed_reason::kNoDataplane) {
    conditions.set(type::kReady, status::kFalse, programmed->reason, programmed->message);
  } else if (wanted.endpoints->ready == 0) {
    std::string why = ms.spec.selector.empty() ? "no static endpoint is ready"
                                               : "no ready pod matches the selector";
    conditions.set(type::kReady, status::kFalse, "NoReadyEndpoints",
                   "0 of " + std::to_string(wanted.endpoints->total) + " endpoints ready: " + why);
  } else {
    conditions.set(type::kReady, status::kTrue, "Ready",
                   std::to_string(wanted.endpoints->ready) + " of " +
                       std::to_string(wanted.endpoints->total) + " endpoints ready");
  }

  if (auto written = statusWriter.write(wanted); !written.empty()) {
    return statusFailure(statusWriter, written, goneNamespaces_);
  }
  if (!programmedProblem.empty()) return kube::ReconcileResult::retry(programmedProblem);
  if (!certificateReady) return kube::ReconcileResult::retry(issued.error());
  if (renewAt) return requeueAtRenewal(*renewAt, clock_.wallNow());
  return kube::ReconcileResult::done();
}

}  // namespace meshgate::op
