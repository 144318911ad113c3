// MeshService defaulting and validation; see webhook/admission/mesh_service_admission.h.
#include "webhook/admission/mesh_service_admission.h"

#include <exception>

#include "api/mesh_service_codec.h"
#include "api/mesh_service_validation.h"
#include "api/webhook_defaults.h"
#include "webhook/admission/admission_errors.h"
#include "webhook/admission/admission_scope.h"
#include "webhook/core/json_patch.h"

namespace meshgate::webhook {

namespace {

bool absent(const nlohmann::json& object, const char* field) {
  const auto it = object.find(field);
  return it == object.end() || it->is_null();
}

}  // namespace

AdmissionDecision mutateMeshService(const AdmissionRequest& request) {
  if (!isObjectWrite(request) || !request.object.is_object()) return AdmissionDecision::allow();
  try {
    // Without a spec there are no ports to default and validation denies the object anyway.
    const auto specIt = request.object.find("spec");
    if (specIt == request.object.end() || !specIt->is_object()) return AdmissionDecision::allow();
    auto decoded = api::decodeMeshService(request.object);
    if (!decoded.ok()) return AdmissionDecision::allow();
    api::MeshService defaulted = *decoded.object;
    api::applyWebhookDefaults(defaulted);

    nlohmann::json mutated = request.object;
    nlohmann::json& spec = mutated["spec"];
    if (absent(spec, "serviceAccount") && defaulted.spec.serviceAccount) {
      spec["serviceAccount"] = *defaulted.spec.serviceAccount;
    }
    if (spec.contains("ports") && spec["ports"].is_array()) {
      nlohmann::json& ports = spec["ports"];
      for (std::size_t i = 0; i < ports.size() && i < defaulted.spec.ports.size(); ++i) {
        const api::ServicePort& port = defaulted.spec.ports[i];
        // Copying an out-of-range port would report the user's one mistake twice (port and
        // targetPort); validation names the port alone.
        const bool inRange = port.port >= 1 && port.port <= 65535;
        if (absent(ports[i], "targetPort") && port.targetPort && inRange) {
          ports[i]["targetPort"] = *port.targetPort;
        }
      }
    }
    AdmissionDecision decision = AdmissionDecision::allow();
    nlohmann::json patch = jsonPatch(request.object, mutated);
    if (!patch.empty()) decision.patch = std::move(patch);
    return decision;
  } catch (const std::exception& e) {
    return internalError(e.what());
  }
}

AdmissionDecision validateMeshService(const AdmissionRequest& request, const WebhookConfig&,
                                      const ClusterView&) {
  if (!isValidatedWrite(request)) return AdmissionDecision::allow();
  try {
    AdmissionErrors errors;
    auto decoded = api::decodeMeshService(request.object);
    errors.object = decoded.ok() ? api::validateMeshService(*decoded.object) : decoded.errors;
    return decide(errors);
  } catch (const std::exception& e) {
    return internalError(e.what());
  }
}

}  // namespace meshgate::webhook
