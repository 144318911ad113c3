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
namespace reason = api::condition_reason;

// "1 static endpoint (127.0.0.1) is …" / "2 static endpoints (127.0.0.1, ::1) are …".
std::string proxyOnlyNote(const std::vector<std::string>& addresses) {
  std::string list;
  for (const auto& address : addresses)
    list += (list.empty() ? "" : ", ") + address;
  const bool one = addresses.size() == 1;
  return std::to_string(addresses.size()) + (one ? " static endpoint (" : " static endpoints (") +
         list + (one ? ") is" : ") are") +
         " served by meshgate proxies only: an EndpointSlice cannot hold loopback or link-local "
         "addresses";
}

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
  StatusWriter statusWriter(client_, kube::resources::kMeshServices, *live, &recentWrites_);

  api::MeshServiceStatus wanted;
  if (decoded.ok()) wanted = decoded.object->status;
  const api::MeshServiceStatus previous = wanted;
  wanted.observedGeneration = generation;
  ConditionSetter conditions(wanted.conditions, generation, now);

  api::ErrorList errors = decoded.errors;
  if (decoded.ok()) errors = api::validateMeshService(*decoded.object);
  if (!errors.empty()) {
    const std::string message = api::joinErrors(errors);
    conditions.set(type::kAccepted, status::kFalse, reason::kInvalid, message);
    conditions.set(type::kReady, status::kFalse, reason::kInvalid,
                   "the spec is invalid: " + message);
    events_.record(*live, kube::EventType::Warning, std::string(reason::kInvalid), "Validate",
                   message);
    if (auto written = statusWriter.write(wanted); !written.empty()) {
      return statusFailure(statusWriter, written, goneNamespaces_);
    }
    return kube::ReconcileResult::terminal("invalid spec: " + message);
  }
  const api::MeshService& ms = *decoded.object;
  conditions.set(type::kAccepted, status::kTrue, reason::kAccepted, "");

  // Children.
  ChildApplier applier(client_, events_, *live, &recentWrites_);
  std::string programmedProblem;
  if (auto problem =
          applier.apply(kube::resources::kServices, desiredService(ms), caches_.services.store());
      !problem.empty()) {
    programmedProblem = problem;
  }
  const std::vector<nlohmann::json> staticSlices = desiredEndpointSlices(ms);
  std::vector<std::string> wantedSlices;
  for (const auto& slice : staticSlices) {
    wantedSlices.push_back(slice["metadata"]["name"].get<std::string>());
    if (auto problem =
            applier.apply(kube::resources::kEndpointSlices, slice, caches_.endpointSlices.store());
        !problem.empty() && programmedProblem.empty()) {
      programmedProblem = problem;
    }
  }
  // Static slices we own but no longer want (an endpoint family or port went away).
  const std::string serviceKey = request.key();
  const auto cachedSlices =
      caches_.endpointSlices.store().byIndex(kEndpointSlicesByService, serviceKey);
  for (const auto& slice : cachedSlices) {
    if (!isStaticEndpointSlice(*slice)) continue;
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
  ProgrammedCondition programmed;
  if (programmedProblem.empty()) {
    programmed = programmedCondition(
        dataplanes_.meshService(ms.metadata.namespace_, ms.metadata.name, generation), generation,
        "Service " + ms.metadata.name + " and " + std::to_string(wantedSlices.size()) +
            " static EndpointSlice(s) are applied; no connected dataplane carries this "
            "MeshService (no gateway serves a route to it)");
  } else {
    programmed = {std::string(status::kFalse), std::string(reason::kApplyFailed),
                  programmedProblem};
  }
  // Static endpoints left out of the EndpointSlices are still served, by the proxies alone: say
  // so where the children are reported. A Warning, not Normal: traffic that does not go through
  // a meshgate proxy (the Service's ClusterIP via kube-proxy, its DNS name from an unmeshed pod)
  // finds none of these endpoints, which is worth noticing in `kubectl get events
  // --field-selector type=Warning`. Recorded when the note first appears or changes, not on
  // every reconcile.
  if (const auto proxyOnly = proxyOnlyAddresses(ms); !proxyOnly.empty()) {
    const std::string note = proxyOnlyNote(proxyOnly);
    programmed.message += "; " + note;
    const auto* before = findCondition(previous.conditions, type::kProgrammed);
    if (before == nullptr || before->message.find(note) == std::string::npos)
      events_.record(*live, kube::EventType::Warning, "ProxyOnlyEndpoints", "Reconcile", note);
  }
  conditions.set(type::kProgrammed, programmed.status, programmed.reason, programmed.message);
  conditions.set(type::kResolvedRefs, status::kTrue, reason::kResolvedRefs, "");

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
        type::kCertificateReady, status::kTrue, reason::kIssued,
        "Secret " + issued->secretName + " holds " + identity + " until " + issued->notAfter);
    if (issued->written) {
      events_.record(*live, kube::EventType::Normal, "CertificateIssued", "Issue",
                     "Secret " + issued->secretName + ": " + issued->reason);
    }
  } else {
    conditions.set(type::kCertificateReady, status::kFalse, reason::kIssueFailed, issued.error());
    events_.record(*live, kube::EventType::Warning, "CertificateFailed", "Issue", issued.error());
  }

  // Endpoints and readiness, counted from the static slices as applied above rather than from the
  // cache, which holds them only once their watch event arrives: the first reconcile already
  // writes the settled count, and the event that follows finds nothing to change.
  std::vector<const nlohmann::json*> cached;
  for (const auto& slice : cachedSlices)
    cached.push_back(slice.get());
  wanted.endpoints = countEndpoints(ms, staticSlices, cached);
  if (!programmedProblem.empty()) {
    conditions.set(type::kReady, status::kFalse, reason::kNotProgrammed, programmedProblem);
  } else if (!certificateReady) {
    conditions.set(type::kReady, status::kFalse, reason::kCertificateNotReady, issued.error());
  } else if (programmed.status != status::kTrue && programmed.reason != reason::kNoDataplane) {
    conditions.set(type::kReady, status::kFalse, programmed.reason, programmed.message);
  } else if (wanted.endpoints->ready == 0) {
    std::string why = ms.spec.selector.empty() ? "no static endpoint is ready"
                                               : "no ready pod matches the selector";
    conditions.set(type::kReady, status::kFalse, reason::kNoReadyEndpoints,
                   "0 of " + std::to_string(wanted.endpoints->total) + " endpoints ready: " + why);
  } else {
    conditions.set(type::kReady, status::kTrue, reason::kReady,
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
