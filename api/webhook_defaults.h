// The defaults the mutating webhook adds (docs/API.md, *webhook default*): they depend on other
// fields, which a CRD schema default cannot express. Called by the webhook's MeshService
// mutator; the resulting JSON patch is computed by the caller.
#pragma once

#include "api/mesh_service.h"

namespace meshgate::api {

// spec.serviceAccount = metadata.name; spec.ports[].targetPort = port. Present fields are kept.
void applyWebhookDefaults(MeshService& ms);

}  // namespace meshgate::api
