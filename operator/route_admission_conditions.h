// The Accepted and ResolvedRefs conditions an ApiRoute's admission (route_admission.h) stands
// for, with the reasons and messages the ApiRoute controller writes in status: Accepted=False
// Invalid (every error), NotAllowed (the denied hosts, and the conflicts as well), Conflicted
// (the claims older routes hold), otherwise True; ResolvedRefs=False BackendNotFound or
// SecretNotFound listing what does not resolve, otherwise True. Shared by the controller and
// `meshgatectl render`, so that what a pipeline renders offline says what the cluster would. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/field_error.h"
#include "base/expected.h"
#include "operator/route_admission.h"

namespace meshgate::op {

// One condition's verdict; the caller adds type, generation and time.
struct ConditionVerdict {
  std::string_view status;
  std::string_view reason;
  std::string message;
};

ConditionVerdict acceptedCondition(const Expected<RouteAdmission, api::ErrorList>& admission);

// `missingSecrets` as resolveAuthSecrets (auth_secrets.h) reports them; a missing backend is the
// graver reason when both are missing.
ConditionVerdict resolvedRefsCondition(const RouteAdmission& admission,
                                       const std::vector<std::string>& missingSecrets);

}  // namespace meshgate::op
