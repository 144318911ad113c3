// Traffic-policy codec; see api/traffic_policy_codec.h.
#include "api/traffic_policy_codec.h"

#include "api/json_object_codec.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, HashKey& out) {
  ObjectReader r(j, path, errors);
  r.read("header", out.header);
  r.read("cookie", out.cookie);
  r.read("sourceIP", out.sourceIP);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                LoadBalancer& out) {
  ObjectReader r(j, path, errors);
  r.read("policy", out.policy);
  r.read("hash", out.hash);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                HealthCheck& out) {
  ObjectReader r(j, path, errors);
  r.read("path", out.path);
  r.read("interval", out.interval);
  r.read("timeout", out.timeout);
  r.read("healthyThreshold", out.healthyThreshold);
  r.read("unhealthyThreshold", out.unhealthyThreshold);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                OutlierDetection& out) {
  ObjectReader r(j, path, errors);
  r.read("consecutiveErrors", out.consecutiveErrors);
  r.read("interval", out.interval);
  r.read("baseEjectionTime", out.baseEjectionTime);
  r.read("maxEjectionPercent", out.maxEjectionPercent);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                CircuitBreaker& out) {
  ObjectReader r(j, path, errors);
  r.read("maxConnections", out.maxConnections);
  r.read("maxPendingRequests", out.maxPendingRequests);
  r.read("maxRequests", out.maxRequests);
  r.read("maxRetries", out.maxRetries);
}

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Subset& out) {
  ObjectReader r(j, path, errors);
  r.read("name", out.name);
  r.read("labels", out.labels);
}

void to_json(nlohmann::json& j, const HashKey& in) {
  j = ObjectWriter()
          .optional("header", in.header)
          .optional("cookie", in.cookie)
          .optional("sourceIP", in.sourceIP)
          .take();
}

void to_json(nlohmann::json& j, const LoadBalancer& in) {
  j = ObjectWriter().optional("policy", in.policy).optional("hash", in.hash).take();
}

void to_json(nlohmann::json& j, const HealthCheck& in) {
  j = ObjectWriter()
          .always("path", in.path)
          .optional("interval", in.interval)
          .optional("timeout", in.timeout)
          .optional("healthyThreshold", in.healthyThreshold)
          .optional("unhealthyThreshold", in.unhealthyThreshold)
          .take();
}

void to_json(nlohmann::json& j, const OutlierDetection& in) {
  j = ObjectWriter()
          .optional("consecutiveErrors", in.consecutiveErrors)
          .optional("interval", in.interval)
          .optional("baseEjectionTime", in.baseEjectionTime)
          .optional("maxEjectionPercent", in.maxEjectionPercent)
          .take();
}

void to_json(nlohmann::json& j, const CircuitBreaker& in) {
  j = ObjectWriter()
          .optional("maxConnections", in.maxConnections)
          .optional("maxPendingRequests", in.maxPendingRequests)
          .optional("maxRequests", in.maxRequests)
          .optional("maxRetries", in.maxRetries)
          .take();
}

void to_json(nlohmann::json& j, const Subset& in) {
  j = ObjectWriter().always("name", in.name).always("labels", in.labels).take();
}

}  // namespace meshgate::api
