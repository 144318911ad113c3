// How the MeshService and ApiRoute validators turn field errors into one AdmissionReview denial.
// The message is what kubectl prints after "denied the request: ", so it follows Kubernetes'
// own aggregate form (one error bare, several as `[e1, e2]`). Called by
// mesh_service_admission.cc and api_route_admission.cc.
#pragma once

#include "api/field_error.h"
#include "webhook/core/admission_review.h"

namespace meshgate::webhook {

// Kubernetes' errors.NewAggregate(...).Error(): "" for none, the message alone for one, else
// `[m1, m2, ...]`; repeated messages are printed once.
std::string aggregateMessage(const api::ErrorList& errors);

// What a validator found, split by who is to blame: `object` holds errors of the object itself
// (it can never be stored, whatever the cluster holds), `policy` the rules this cluster or the
// webhook's config adds (hosts, conflicts, policy flags).
struct AdmissionErrors {
  api::ErrorList object;
  api::ErrorList policy;

  bool empty() const { return object.empty() && policy.empty(); }
};

// Allowed when there are no errors; otherwise denied with every error, object errors first.
// Any object error makes it 422 Invalid (as the apiserver answers for a bad object); a denial
// by policy alone is 403 Forbidden.
AdmissionDecision decide(const AdmissionErrors& errors);

// The denial for an unexpected exception inside a CR webhook: 500 InternalError, "internal error:
// <what>".
AdmissionDecision internalError(const char* what);

}  // namespace meshgate::webhook
