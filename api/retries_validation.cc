// Retries validation; see api/retries_validation.h.
#include "api/retries_validation.h"

#include <set>
#include <string>
#include <vector>

#include "api/schema_defaults.h"
#include "api/value_rules.h"

namespace meshgate::api {
namespace {

const std::vector<std::string>& retryOnValues() {
  static const std::vector<std::string> values = {std::string(retry_on::kConnectFailure),
                                                  std::string(retry_on::kReset),
                                                  std::string(retry_on::k5xx),
                                                  std::string(retry_on::kGatewayError),
                                                  std::string(retry_on::kRetriable4xx),
                                                  std::string(retry_on::kCancelled),
                                                  std::string(retry_on::kDeadlineExceeded),
                                                  std::string(retry_on::kResourceExhausted),
                                                  std::string(retry_on::kUnavailable)};
  return values;
}

}  // namespace

void validateRetries(const Retries& retries, const FieldPath& path, ErrorList& errors) {
  if (retries.attempts) validateRange(*retries.attempts, 1, 10, path.child("attempts"), errors);
  if (retries.perTryTimeout) {
    validatePositiveDuration(*retries.perTryTimeout, path.child("perTryTimeout"), errors);
  }
  const FieldPath retryOn = path.child("retryOn");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < retries.retryOn.size(); ++i) {
    const std::string& value = retries.retryOn[i];
    const std::size_t before = errors.size();
    validateEnum(value, retryOnValues(), retryOn.index(i), errors);
    if (errors.size() == before && !seen.insert(value).second) {
      errors.push_back(FieldError::duplicate(retryOn.index(i), value));
    }
  }
  if (retries.backoff) {
    const FieldPath backoff = path.child("backoff");
    const std::string base = retries.backoff->base.value_or(std::string(kDefaultBackoffBase));
    const std::string max = retries.backoff->max.value_or(std::string(kDefaultBackoffMax));
    const auto baseValue = validatePositiveDuration(base, backoff.child("base"), errors);
    const auto maxValue = validatePositiveDuration(max, backoff.child("max"), errors);
    if (baseValue && maxValue && *maxValue < *baseValue) {
      errors.push_back(FieldError::invalid(backoff.child("max"), max,
                                           "must not be shorter than base (" + base + ")"));
    }
  }
}

}  // namespace meshgate::api
