// Validation of a Retries block (docs/API.md "Retries"), called by the MeshService validator for
// `spec.retries` and by the ApiRoute validator for `spec.rules[].retries`. Absent defaulted
// fields count as their defaults (backoff base 25ms, max 250ms).
#pragma once

#include "api/field_error.h"
#include "api/field_path.h"
#include "api/retries.h"

namespace meshgate::api {

void validateRetries(const Retries& retries, const FieldPath& path, ErrorList& errors);

}  // namespace meshgate::api
