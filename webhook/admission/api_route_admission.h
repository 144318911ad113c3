// Admission of ApiRoutes: the validating webhook's verdict, and its (empty) mutating step.
// Called by the webhook's request router for apiroutes (CREATE and UPDATE; anything else is
// allowed). The object's own rules come from api::validateApiRoute, the one the operator and
// meshgatectl use; on top of them the webhook enforces what needs the cluster or its config, so
// that `kubectl apply` fails at once instead of leaving a route Accepted=False. Never throws.
#pragma once

#include "webhook/core/admission_review.h"
#include "webhook/core/cluster_view.h"
#include "webhook/core/webhook_config.h"

namespace meshgate::webhook {

// Always allowed without a patch: docs/API.md marks no ApiRoute field as a webhook default.
// Every ApiRoute default is a constant the CRD schema applies, and rateLimit.burst's fallback to
// `requests` is the proxy's, left unset on purpose so a later change of requests carries it.
// Kept so the router treats both kinds alike and a future webhook default has its place.
AdmissionDecision mutateApiRoute(const AdmissionRequest& request);

// Denies, in this order (Kubernetes' aggregate message when several):
//   - decode errors and api::validateApiRoute errors (422 Invalid);
//   - hosts outside the namespace's meshgate.io/allowed-hosts annotation, or any host when the
//     policy requires the annotation and the namespace has none;
//   - (host, match) claims an older route of another namespace holds in the same ingress class,
//     among the routes api::competingRoutes finds, as the operator does (api/route_conflicts.h);
//     same-namespace collisions are left to the operator, which marks the younger route
//     Conflicted;
//   - the policy flags: requireTLS, requireAuth, maxRateLimitBurst.
// Cluster and policy denials alone are 403 Forbidden. Backends naming a missing MeshService or
// port are warnings only: the route starts serving them once they exist.
AdmissionDecision validateApiRoute(const AdmissionRequest& request, const WebhookConfig& config,
                                   const ClusterView& view);

}  // namespace meshgate::webhook
