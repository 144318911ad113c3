// Pod admission; see webhook/injection/pod_admission.h.
#include "webhook/injection/pod_admission.h"

#include <exception>
#include <string>
#include <utility>

#include "api/field_error.h"
#include "api/field_path.h"
#include "webhook/core/json_patch.h"
#include "webhook/injection/capture_injector.h"
#include "webhook/injection/injection_decision.h"
#include "webhook/injection/sidecar_injector.h"

namespace meshgate::webhook {
namespace {

using api::ErrorList;
using api::FieldError;
using api::FieldPath;
using nlohmann::json;

constexpr int kBadRequest = 400;
constexpr int kInvalid = 422;

// `j[name]`, or null when absent or JSON null (the apiserver omits empty fields; null is absent).
const json* field(const json& j, std::string_view name) {
  const auto it = j.find(name);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

void expectType(const json* value, const FieldPath& path, json::value_t type, const char* expected,
                ErrorList& errors) {
  if (value != nullptr && value->type() != type) {
    errors.push_back(FieldError::invalid(path, *value, expected));
  }
}

// Each element of the array at `path` must be an object: the injector looks up names in them.
void expectObjectList(const json* list, const FieldPath& path, ErrorList& errors) {
  expectType(list, path, json::value_t::array, "expected an array", errors);
  if (list == nullptr || !list->is_array()) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    if (!item.is_object()) {
      errors.push_back(FieldError::invalid(path.index(i), item, "expected an object"));
      continue;
    }
    expectType(field(item, "name"), path.index(i).child("name"), json::value_t::string,
               "expected a string", errors);
  }
}

// The fields the decision and the injector read or write, with the JSON types they need. The
// apiserver validates the rest of the pod after the mutating webhooks, so nothing else is checked.
ErrorList checkPodShape(const json& pod) {
  ErrorList errors;
  if (!pod.is_object()) {
    errors.push_back(FieldError::invalid(FieldPath("object"), pod, "expected a Pod object"));
    return errors;
  }
  if (const json* kind = field(pod, "kind"); kind != nullptr && *kind != "Pod") {
    errors.push_back(FieldError::unsupported(FieldPath("kind"), *kind, {"Pod"}));
  }

  const json* metadata = field(pod, "metadata");
  expectType(metadata, FieldPath("metadata"), json::value_t::object, "expected an object", errors);
  if (metadata != nullptr && metadata->is_object()) {
    const FieldPath path("metadata");
    expectType(field(*metadata, "namespace"), path.child("namespace"), json::value_t::string,
               "expected a string", errors);
    const json* annotations = field(*metadata, "annotations");
    expectType(annotations, path.child("annotations"), json::value_t::object, "expected an object",
               errors);
    if (annotations != nullptr && annotations->is_object()) {
      for (const auto& [key, value] : annotations->items()) {
        expectType(&value, path.child("annotations").key(key), json::value_t::string,
                   "expected a string", errors);
      }
    }
  }

  const json* spec = field(pod, "spec");
  if (spec == nullptr) {
    errors.push_back(FieldError::required(FieldPath("spec")));
    return errors;
  }
  expectType(spec, FieldPath("spec"), json::value_t::object, "expected an object", errors);
  if (!spec->is_object()) return errors;
  const FieldPath specPath("spec");
  const json* containers = field(*spec, "containers");
  if (containers == nullptr) errors.push_back(FieldError::required(specPath.child("containers")));
  expectObjectList(containers, specPath.child("containers"), errors);
  expectObjectList(field(*spec, "initContainers"), specPath.child("initContainers"), errors);
  expectObjectList(field(*spec, "volumes"), specPath.child("volumes"), errors);
  expectType(field(*spec, "hostNetwork"), specPath.child("hostNetwork"), json::value_t::boolean,
             "expected a boolean", errors);
  for (const char* name : {"serviceAccountName", "serviceAccount"}) {
    expectType(field(*spec, name), specPath.child(name), json::value_t::string, "expected a string",
               errors);
  }
  return errors;
}

AdmissionDecision badRequest(std::string message) {
  return AdmissionDecision::deny(std::move(message), kBadRequest, "BadRequest");
}

AdmissionDecision admitCreate(const AdmissionRequest& request, const WebhookConfig& config,
                              const ClusterView& cluster, std::string_view version) {
  if (request.kind.kind != "Pod" || !request.kind.group.empty()) {
    return badRequest("meshgate-webhook injects pods only; got kind " +
                      (request.kind.group.empty() ? "" : request.kind.group + "/") +
                      request.kind.kind);
  }
  const json& pod = request.object;
  const ErrorList errors = checkPodShape(pod);
  if (!errors.empty()) return badRequest("malformed pod: " + api::joinErrors(errors));

  std::string ns = request.namespace_;
  if (ns.empty()) {
    const json* metadata = field(pod, "metadata");
    const json* podNamespace = metadata == nullptr ? nullptr : field(*metadata, "namespace");
    if (podNamespace != nullptr) ns = podNamespace->get<std::string>();
  }
  const ObjectPtr namespaceObject = cluster.namespaceObject(ns);
  const InjectionDecision decision =
      decideInjection(pod, ns, namespaceObject.get(), config.injection);

  AdmissionDecision out = AdmissionDecision::allow();
  out.warnings = decision.warnings;
  switch (decision.verdict) {
    case InjectionVerdict::kSkip:
      break;
    case InjectionVerdict::kRefused:
      out.warnings.push_back(decision.reason);
      break;
    case InjectionVerdict::kInject: {
      auto capture = planCapture(pod);
      if (!capture) {
        // Admitted, the pod would never get past its init container; refused, the user sees why
        // at once (kubectl apply, or the ReplicaSet's events).
        return AdmissionDecision::deny(capture.error(), kInvalid, "Invalid");
      }
      out.warnings.insert(out.warnings.end(), capture->warnings.begin(), capture->warnings.end());
      json injected = injectSidecar(pod, config.injection, version);
      if (capture->options)
        injected = injectCaptureInit(injected, config.injection, *capture->options);
      json patch = jsonPatch(pod, injected);
      if (!patch.empty()) out.patch = std::move(patch);
      break;
    }
  }
  return out;
}

}  // namespace

AdmissionDecision admitPod(const AdmissionRequest& request, const WebhookConfig& config,
                           const ClusterView& cluster, std::string_view version) {
  // A running pod's containers and volumes are immutable, and a subresource CREATE (binding,
  // eviction) carries another kind: neither is ours to mutate or refuse.
  if (request.operation != "CREATE" || !request.subResource.empty()) {
    return AdmissionDecision::allow();
  }
  try {
    return admitCreate(request, config, cluster, version);
  } catch (const std::exception& e) {
    // checkPodShape() leaves nothing to throw on; this guards allocation failures and the
    // ClusterView implementation.
    return AdmissionDecision::deny(std::string("pod injection failed: ") + e.what(), 500,
                                   "InternalError");
  }
}

}  // namespace meshgate::webhook
