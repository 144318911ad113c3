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
#include "api/traffic_policy_validation.h"
#include "api/value_rules.h"

namespace meshgate::api {
namespace {

std::vector<std::string> toStrings(std::initializer_list<std::string_view> values) {
  return {values.begin(), values.end()};
}

const std::vector<std::string>& protocols() {
  static const auto values = toStrings({protocol::kHTTP, protocol::kHTTP2, protocol::kTCP});
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
