// The mutating admission of Pods: on CREATE, decides injection (injection_decision.h) and answers
// with the JSON patch that adds the sidecar (sidecar_injector.h) and, unless the pod opts out, the
// traffic-capture init container (capture_injector.h; json_patch.h). The webhook's
// request router calls admitPod() for resource "pods"; it is pure apart from reading the
// ClusterView, and safe to call from several threads at once.
#pragma once

#include <string_view>

#include "webhook/core/admission_review.h"
#include "webhook/core/cluster_view.h"
#include "webhook/core/webhook_config.h"

namespace meshgate::webhook {

// Never throws. A well-formed pod is admitted (one that cannot be injected without the sidecar,
// with a warning when the user asked for one) unless its capture annotations hold values
// meshgate-init would refuse: code 422 (Invalid). Only CREATE is mutated: the containers of an
// existing pod are immutable. A request that is not a Pod, or a pod whose fields the injector
// touches have the wrong JSON types, is denied with code 400 (BadRequest).
AdmissionDecision admitPod(const AdmissionRequest& request, const WebhookConfig& config,
                           const ClusterView& cluster, std::string_view version);

}  // namespace meshgate::webhook
