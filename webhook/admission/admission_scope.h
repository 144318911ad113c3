// Which admission requests the MeshService and ApiRoute webhooks judge at all. Shared by the
// defaulting and validation of both kinds, so they never disagree on what they leave alone.
#pragma once

#include <nlohmann/json.hpp>

#include "webhook/core/admission_review.h"

namespace meshgate::webhook {

// CREATE or UPDATE of the object itself. Subresources (status) are the operator's writes; judging
// them would let a rule change lock the operator out of reporting why an object is not accepted.
bool isObjectWrite(const AdmissionRequest& request);

// What the validators judge: an object write (above), except an UPDATE of an object on its way out
// (metadata.deletionTimestamp set), which must stay updatable — finalizers, labels — even if
// today's rules reject what it holds.
bool isValidatedWrite(const AdmissionRequest& request);

}  // namespace meshgate::webhook
