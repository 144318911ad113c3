// MeshService validation; see api/mesh_service_validation.h. The order of the checks is the
// order of the fields in docs/API.md, which is the order the errors are reported in.
#include "api/mesh_service_validation.h"

#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include "api/object_meta_validation.h"
#include "api/retries_validation.h"
#include "api/schema_defaults.h"
#include "api/value_rules.h"

namespace meshgate::api {
namespace {

constexpr std::size_t kMaxHealthCheckPathLength = 1024;
constexpr std::size_t kMaxCookieNameLength = 256;

std::vector<std::string> toStrings(std::initializer_list<std::string_view> values) {
  return {values.begin(), values.end()};
}

const std::vector<std::string>& protocols() {
  static const auto values = toStrings({protocol::kHTTP, protocol::kHTTP2, protocol::kTCP});
  return values;
}

const std::vector<std::string>& lbPolicies() {
  static const auto values = toStrings(
      {lb_policy::kRoundRobin, lb_policy::kLeastRequest, lb_policy::kRandom, lb_policy::kRingHash});
  return values;
}

const std::vector<std::string>& mtlsModes() {
  static const auto values =
      toStrings({mtls_mode::kStrict, mtls_mode::kPermissive, mtls_mode::kDisabled});
  return values;
}

void validateEndpoints(const std::vector<Endpoint>& endpoints, const FieldPath& path,
                       ErrorList& errors) {
  validateMaxItems(endpoints.size(), kMaxEndpoints, path, errors);
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const Endpoint& ep = endpoints[i];
    const FieldPath item = path.index(i);
    if (validateRequired(ep.address, item.child("address"), errors)) {
      validateIpAddress(ep.address, item.child("address"), errors);
    }
    if (ep.port) validatePort(*ep.port, item.child("port"), errors);
    if (ep.weight) validateRange(*ep.weight, 1, 1000, item.child("weight"), errors);
  }
}

void validatePorts(const std::vector<ServicePort>& ports, const FieldPath& path,
                   ErrorList& errors) {
  if (ports.empty()) {
    errors.push_back(FieldError::required(path));
    return;
  }
  validateMaxItems(ports.size(), kMaxPorts, path, errors);
  std::set<std::string> names;
  std::set<std::int64_t> numbers;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const ServicePort& port = ports[i];
    const FieldPath item = path.index(i);
    const FieldPath name = item.child("name");
    if (validateRequired(port.name, name, errors)) {
      validateDnsLabel(port.name, name, errors);
      if (!names.insert(port.name).second) errors.push_back(FieldError::duplicate(name, port.name));
    }
    const FieldPath number = item.child("port");
    if (port.port == 0) {
      errors.push_back(FieldError::required(number));
    } else {
      validatePort(port.port, number, errors);
      if (!numbers.insert(port.port).second) {
        errors.push_back(FieldError::duplicate(number, port.port));
      }
    }
    if (port.targetPort) validatePort(*port.targetPort, item.child("targetPort"), errors);
    if (port.protocol) validateEnum(*port.protocol, protocols(), item.child("protocol"), errors);
  }
}

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

void validateAuthorization(const Authorization& authz, const FieldPath& path, ErrorList& errors) {
  const FieldPath allow = path.child("allow");
  validateMaxItems(authz.allow.size(), kMaxAuthorizationRules, allow, errors);
  for (std::size_t i = 0; i < authz.allow.size(); ++i) {
    const AuthorizationRule& rule = authz.allow[i];
    const FieldPath item = allow.index(i);
    if (!rule.namespace_ && !rule.serviceAccount) {
      errors.push_back(
          FieldError::required(item, "at least one of namespace or serviceAccount must be set"));
    }
    if (rule.namespace_) validateDnsLabel(*rule.namespace_, item.child("namespace"), errors);
    if (rule.serviceAccount) {
      validateDnsSubdomain(*rule.serviceAccount, item.child("serviceAccount"), errors);
    }
  }
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

void validateSpec(const MeshServiceSpec& spec, const FieldPath& path, ErrorList& errors) {
  validateLabelMap(spec.selector, path.child("selector"), errors);
  validateEndpoints(spec.endpoints, path.child("endpoints"), errors);
  if (spec.selector.empty() && spec.endpoints.empty()) {
    errors.push_back(
        FieldError::required(path, "at least one of selector or endpoints must be set"));
  }
  validatePorts(spec.ports, path.child("ports"), errors);
  if (spec.serviceAccount) {
    validateDnsSubdomain(*spec.serviceAccount, path.child("serviceAccount"), errors);
  }
  if (spec.loadBalancer)
    validateLoadBalancer(*spec.loadBalancer, path.child("loadBalancer"), errors);
  if (spec.healthCheck) validateHealthCheck(*spec.healthCheck, path.child("healthCheck"), errors);
  if (spec.outlierDetection) {
    validateOutlierDetection(*spec.outlierDetection, path.child("outlierDetection"), errors);
  }
  if (spec.circuitBreaker) {
    validateCircuitBreaker(*spec.circuitBreaker, path.child("circuitBreaker"), errors);
  }
  if (spec.timeout) validateDuration(*spec.timeout, path.child("timeout"), errors);
  if (spec.retries) validateRetries(*spec.retries, path.child("retries"), errors);
  if (spec.mtls) {
    const std::string mode = spec.mtls->mode.value_or(std::string(kDefaultMtlsMode));
    validateEnum(mode, mtlsModes(), path.child("mtls").child("mode"), errors);
  }
  if (spec.authorization) {
    validateAuthorization(*spec.authorization, path.child("authorization"), errors);
  }
  validateSubsets(spec.subsets, path.child("subsets"), errors);
}

}  // namespace

ErrorList validateMeshService(const MeshService& input) {
  ErrorList errors;
  try {
    MeshService ms = input;
    applySchemaDefaults(ms);
    validateObjectMeta(ms.metadata, FieldPath("metadata"), errors);
    validateSpec(ms.spec, FieldPath("spec"), errors);
  } catch (const std::exception& e) {
    errors.push_back(FieldError::internal(FieldPath(), e.what()));
  }
  return errors;
}

}  // namespace meshgate::api
