// Admission of MeshServices: the mutating webhook's defaults and the validating webhook's
// verdict. Called by the webhook's request router for meshservices (CREATE and UPDATE; anything
// else is allowed untouched). Validation uses the api/ validators the operator and meshgatectl
// use, so the webhook never admits what the operator would mark Invalid. Never throws.
#pragma once

#include "webhook/core/admission_review.h"
#include "webhook/core/cluster_view.h"
#include "webhook/core/webhook_config.h"

namespace meshgate::webhook {

// The defaults a CRD schema cannot express because they copy another field
// (api/webhook_defaults.h): spec.serviceAccount = metadata.name, spec.ports[i].targetPort =
// port. Returned as an RFC 6902 patch that only adds what is absent, so it is idempotent and
// never rewrites the user's fields. An object that does not decode is allowed without a patch:
// the validating webhook denies it with the full message.
AdmissionDecision mutateMeshService(const AdmissionRequest& request);

// Decode errors and api::validateMeshService errors deny with 422 Invalid, in Kubernetes'
// aggregate message form. `config` and `view` are part of every validator's signature (the
// router calls them alike); no MeshService rule depends on them today.
AdmissionDecision validateMeshService(const AdmissionRequest& request, const WebhookConfig& config,
                                      const ClusterView& view);

}  // namespace meshgate::webhook
