// Traffic-policy validation; see api/traffic_policy_validation.h.
#include "api/traffic_policy_validation.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "api/mesh_service_validation.h"
#include "api/schema_defaults.h"
#include "api/value_rules.h"

namespace meshgate::api {
namespace {

constexpr std::size_t kMaxHealthCheckPathLength = 1024;
constexpr std::size_t kMaxCookieNameLength = 256;

const std::vector<std::string>& lbPolicies() {
  static const std::vector<std::string> values = {
      std::string(lb_policy::kRoundRobin), std::string(lb_policy::kLeastRequest),
      std::string(lb_policy::kRandom), std::string(lb_policy::kRingHash)};
  return values;
}

}  // namespace

void validateLoadBalancer(const LoadBalancer& lb, const FieldPath& path, ErrorList& errors) {
  const std::string policy = lb.policy.value_or(std::string(kDefaultLbPolicy));
  const std::size_t before = errors.size();
  validateEnum(policy, lbPolicies(), path.child("policy"), errors);
  const bool policyValid = errors.size() == before;
  const bool ringHash = policy == lb_policy::kRingHash;

  const FieldPath hashPath = path.child("hash");
  if (!lb.hash) {
    if (ringHash) {
      errors.push_back(FieldError::required(hashPath, "policy RingHash needs a hash key"));
    }
    return;
  }
  const HashKey& hash = *lb.hash;
  const int set = (hash.header ? 1 : 0) + (hash.cookie ? 1 : 0) + (hash.sourceIP.value_or(false));
  if (set != 1) {
    errors.push_back(FieldError::invalid(hashPath, "object",
                                         "exactly one of header, cookie or sourceIP must be set"));
  }
  if (policyValid && !ringHash) {
    errors.push_back(FieldError::forbidden(hashPath, "only allowed when policy is RingHash"));
  }
  if (hash.header) validateHeaderName(*hash.header, hashPath.child("header"), errors);
  if (hash.cookie) {
    const auto& cookie = *hash.cookie;
    if (cookie.size() > kMaxCookieNameLength || !isCookieName(cookie)) {
      errors.push_back(
          FieldError::invalid(hashPath.child("cookie"), cookie, std::string(kCookieNameMessage)));
    }
  }
}

void validateHealthCheck(const HealthCheck& hc, const FieldPath& path, ErrorList& errors) {
  const FieldPath hcPath = path.child("path");
  if (validateRequired(hc.path, hcPath, errors) &&
      validateMaxLength(hc.path, kMaxHealthCheckPathLength, hcPath, errors) &&
      hc.path.front() != '/') {
    errors.push_back(FieldError::invalid(hcPath, hc.path, "must start with \"/\""));
  }
  const std::string interval = hc.interval.value_or(std::string(kDefaultHealthCheckInterval));
  const std::string timeout = hc.timeout.value_or(std::string(kDefaultHealthCheckTimeout));
  const auto intervalValue = validatePositiveDuration(interval, path.child("interval"), errors);
  const auto timeoutValue = validatePositiveDuration(timeout, path.child("timeout"), errors);
  if (intervalValue && timeoutValue && *timeoutValue > *intervalValue) {
    errors.push_back(FieldError::invalid(path.child("timeout"), timeout,
                                         "must not be longer than interval (" + interval + ")"));
  }
  if (hc.healthyThreshold) {
    validateRange(*hc.healthyThreshold, 1, 100, path.child("healthyThreshold"), errors);
  }
  if (hc.unhealthyThreshold) {
    validateRange(*hc.unhealthyThreshold, 1, 100, path.child("unhealthyThreshold"), errors);
  }
}

void validateOutlierDetection(const OutlierDetection& od, const FieldPath& path,
                              ErrorList& errors) {
  if (od.consecutiveErrors) {
    validateRange(*od.consecutiveErrors, 1, 1000, path.child("consecutiveErrors"), errors);
  }
  if (od.interval) validatePositiveDuration(*od.interval, path.child("interval"), errors);
  if (od.baseEjectionTime) {
    validatePositiveDuration(*od.baseEjectionTime, path.child("baseEjectionTime"), errors);
  }
  if (od.maxEjectionPercent) {
    validateRange(*od.maxEjectionPercent, 0, 100, path.child("maxEjectionPercent"), errors);
  }
}

void validateCircuitBreaker(const CircuitBreaker& cb, const FieldPath& path, ErrorList& errors) {
  constexpr std::int64_t kMax = 1000000;
  if (cb.maxConnections)
    validateRange(*cb.maxConnections, 1, kMax, path.child("maxConnections"), errors);
  if (cb.maxPendingRequests) {
    validateRange(*cb.maxPendingRequests, 1, kMax, path.child("maxPendingRequests"), errors);
  }
  if (cb.maxRequests) validateRange(*cb.maxRequests, 1, kMax, path.child("maxRequests"), errors);
  if (cb.maxRetries) validateRange(*cb.maxRetries, 1, kMax, path.child("maxRetries"), errors);
}

void validateSubsets(const std::vector<Subset>& subsets, const FieldPath& path, ErrorList& errors) {
  validateMaxItems(subsets.size(), kMaxSubsets, path, errors);
  std::set<std::string> names;
  for (std::size_t i = 0; i < subsets.size(); ++i) {
    const Subset& subset = subsets[i];
    const FieldPath item = path.index(i);
    const FieldPath name = item.child("name");
    if (validateRequired(subset.name, name, errors)) {
      validateDnsLabel(subset.name, name, errors);
      if (!names.insert(subset.name).second) {
        errors.push_back(FieldError::duplicate(name, subset.name));
      }
    }
    if (subset.labels.empty()) {
      errors.push_back(FieldError::required(item.child("labels")));
    } else {
      validateLabelMap(subset.labels, item.child("labels"), errors);
    }
  }
}

}  // namespace meshgate::api
