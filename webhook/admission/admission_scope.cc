// What the CR webhooks judge; see webhook/admission/admission_scope.h.
#include "webhook/admission/admission_scope.h"

namespace meshgate::webhook {

bool isObjectWrite(const AdmissionRequest& request) {
  return (request.operation == "CREATE" || request.operation == "UPDATE") &&
         request.subResource.empty();
}

bool isValidatedWrite(const AdmissionRequest& request) {
  if (!isObjectWrite(request)) return false;
  if (request.operation != "UPDATE") return true;
  const auto metadata = request.object.find("metadata");
  const bool beingDeleted = metadata != request.object.end() && metadata->is_object() &&
                            metadata->contains("deletionTimestamp") &&
                            !(*metadata)["deletionTimestamp"].is_null();
  return !beingDeleted;
}

}  // namespace meshgate::webhook
