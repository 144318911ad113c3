// Accepted and ResolvedRefs of an ApiRoute admission; see route_admission_conditions.h.
#include "operator/route_admission_conditions.h"

#include "api/allowed_hosts.h"
#include "api/condition.h"

namespace meshgate::op {

namespace {
namespace status = api::condition_status;
namespace reason = api::condition_reason;

// "a; b; c" — and "; and N more" past `limit`, so a condition message stays readable.
std::string joinLimited(const std::vector<std::string>& items, size_t limit = 5) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; i++) {
    if (!out.empty()) out += "; ";
    out += items[i];
  }
  if (items.size() > limit) out += "; and " + std::to_string(items.size() - limit) + " more";
  return out;
}

}  // namespace

ConditionVerdict acceptedCondition(const Expected<RouteAdmission, api::ErrorList>& admission) {
  if (!admission) return {status::kFalse, reason::kInvalid, api::joinErrors(admission.error())};
  const std::vector<std::string>& denied = admission->deniedHosts;
  const std::vector<std::string>& conflicts = admission->conflicts;
  if (!denied.empty()) {
    std::string message = "hosts not allowed in namespace " + admission->route.metadata.namespace_ +
                          " (" + api::kAllowedHostsAnnotation + "): " + joinLimited(denied);
    if (!conflicts.empty()) message += "; also conflicted: " + joinLimited(conflicts);
    return {status::kFalse, reason::kNotAllowed, std::move(message)};
  }
  if (!conflicts.empty()) return {status::kFalse, reason::kConflicted, joinLimited(conflicts)};
  return {status::kTrue, reason::kAccepted, ""};
}

ConditionVerdict resolvedRefsCondition(const RouteAdmission& admission,
                                       const std::vector<std::string>& missingSecrets) {
  const std::vector<std::string>& missing = admission.missingBackends;
  if (missing.empty() && missingSecrets.empty()) return {status::kTrue, reason::kResolvedRefs, ""};
  std::vector<std::string> unresolved = missing;
  unresolved.insert(unresolved.end(), missingSecrets.begin(), missingSecrets.end());
  return {status::kFalse, missing.empty() ? reason::kSecretNotFound : reason::kBackendNotFound,
          joinLimited(unresolved)};
}

}  // namespace meshgate::op
