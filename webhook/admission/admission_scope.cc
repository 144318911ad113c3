// What the CR webhooks judge; see webhook/admission/admission_scope.h.
#include "webhook/admission/admission_scope.h"

namespace meshgate::webhook {

bool isObjectWrite(const AdmissionRequest& request) {
  return (request.operation == "CREATE" || request.operation == "UPDATE") &&
         request.subResource.empty();
}

bool beingDeleted(const nlohmann::json& object) {
  const auto metadata = object.find("metadata");
  return metadata != object.end() && metadata->is_object() &&
         metadata->contains("deletionTimestamp") && !(*metadata)["deletionTimestamp"].is_null();
}

}  // namespace meshgate::webhook
