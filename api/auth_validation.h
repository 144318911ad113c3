// Validation of an ApiRoute Auth block (docs/API.md "Auth"), called by the ApiRoute validator for
// the route default `spec.auth` and for each rule override `spec.rules[].auth`; `disabled` is
// only allowed in the latter.
#pragma once

#include "api/auth.h"
#include "api/field_error.h"
#include "api/field_path.h"

namespace meshgate::api {

enum class AuthScope { kRouteDefault, kRuleOverride };

void validateAuth(const Auth& auth, AuthScope scope, const FieldPath& path, ErrorList& errors);

}  // namespace meshgate::api
