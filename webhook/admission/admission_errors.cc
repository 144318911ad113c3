// Aggregated admission denials; see webhook/admission/admission_errors.h.
#include "webhook/admission/admission_errors.h"

#include <set>

namespace meshgate::webhook {

std::string aggregateMessage(const api::ErrorList& errors) {
  std::set<std::string> seen;
  std::string joined;
  for (const auto& error : errors) {
    std::string message = error.toString();
    if (!seen.insert(message).second) continue;
    if (seen.size() > 1) joined += ", ";
    joined += message;
  }
  return seen.size() > 1 ? "[" + joined + "]" : joined;
}

AdmissionDecision decide(const AdmissionErrors& errors) {
  if (errors.empty()) return AdmissionDecision::allow();
  api::ErrorList all = errors.object;
  all.insert(all.end(), errors.policy.begin(), errors.policy.end());
  if (!errors.object.empty()) return AdmissionDecision::deny(aggregateMessage(all), 422, "Invalid");
  return AdmissionDecision::deny(aggregateMessage(all), 403, "Forbidden");
}

AdmissionDecision internalError(const char* what) {
  return AdmissionDecision::deny(std::string("internal error: ") + what, 500, "InternalError");
}

}  // namespace meshgate::webhook
