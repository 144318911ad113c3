// MeshService (meshgate.io/v1alpha1, short name `ms`): a service inside the mesh. The operator
// turns it into a Service, an EndpointSlice for static endpoints and an identity certificate; the
// webhook defaults and validates it; the proxy routes to it. Field names and meanings are those
// of docs/API.md. Durations and enums keep their wire text so that validation can quote it.
// Every member has an initializer so callers can use designated initializers that name only
// the fields they set without tripping -Wmissing-field-initializers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/certificate_status.h"
#include "api/condition.h"
#include "api/object_meta.h"
#include "api/retries.h"

namespace meshgate::api {

// A static backend (e.g. a VM) that the operator publishes in an EndpointSlice.
struct Endpoint {
  std::string address{};
  // Absent: each port's targetPort.
  std::optional<std::int64_t> port{};
  std::optional<std::int64_t> weight{};

  bool operator==(const Endpoint&) const = default;
};

struct ServicePort {
  std::string name{};
  // Required; 0 means unset.
  std::int64_t port = 0;
  std::optional<std::int64_t> targetPort{};
  // protocol::kHTTP, kHTTP2 or kTCP.
  std::optional<std::string> protocol{};

  bool operator==(const ServicePort&) const = default;
};

// What RingHash hashes on: exactly one of the three.
struct HashKey {
  std::optional<std::string> header{};
  std::optional<std::string> cookie{};
  // Only `true` counts as set.
  std::optional<bool> sourceIP{};

  bool operator==(const HashKey&) const = default;
};

struct LoadBalancer {
  std::optional<std::string> policy{};
  std::optional<HashKey> hash{};

  bool operator==(const LoadBalancer&) const = default;
};

struct HealthCheck {
  std::string path{};
  std::optional<std::string> interval{};
  std::optional<std::string> timeout{};
  std::optional<std::int64_t> healthyThreshold{};
  std::optional<std::int64_t> unhealthyThreshold{};

  bool operator==(const HealthCheck&) const = default;
};

struct OutlierDetection {
  std::optional<std::int64_t> consecutiveErrors{};
  std::optional<std::string> interval{};
  std::optional<std::string> baseEjectionTime{};
  std::optional<std::int64_t> maxEjectionPercent{};

  bool operator==(const OutlierDetection&) const = default;
};

// Absent limits mean the proxy's defaults (kDefaultMaxConnections, …).
struct CircuitBreaker {
  std::optional<std::int64_t> maxConnections{};
  std::optional<std::int64_t> maxPendingRequests{};
  std::optional<std::int64_t> maxRequests{};
  std::optional<std::int64_t> maxRetries{};

  bool operator==(const CircuitBreaker&) const = default;
};

struct Mtls {
  std::optional<std::string> mode{};

  bool operator==(const Mtls&) const = default;
};

// One allowed caller identity; at least one of the two is set.
struct AuthorizationRule {
  // `namespace` is a C++ keyword.
  std::optional<std::string> namespace_{};
  std::optional<std::string> serviceAccount{};

  bool operator==(const AuthorizationRule&) const = default;
};

// Present with an empty `allow`: nobody may call. Absent (spec.authorization unset): any mesh
// identity may.
struct Authorization {
  std::vector<AuthorizationRule> allow{};

  bool operator==(const Authorization&) const = default;
};

struct Subset {
  std::string name{};
  std::map<std::string, std::string> labels{};

  bool operator==(const Subset&) const = default;
};

struct MeshServiceSpec {
  std::map<std::string, std::string> selector{};
  std::vector<Endpoint> endpoints{};
  std::vector<ServicePort> ports{};
  std::optional<std::string> serviceAccount{};
  std::optional<LoadBalancer> loadBalancer{};
  std::optional<HealthCheck> healthCheck{};
  std::optional<OutlierDetection> outlierDetection{};
  std::optional<CircuitBreaker> circuitBreaker{};
  std::optional<std::string> timeout{};
  std::optional<Retries> retries{};
  std::optional<Mtls> mtls{};
  std::optional<Authorization> authorization{};
  std::vector<Subset> subsets{};

  bool operator==(const MeshServiceSpec&) const = default;
};

struct EndpointCounts {
  std::int64_t ready = 0;
  std::int64_t total = 0;

  bool operator==(const EndpointCounts&) const = default;
};

struct MeshServiceStatus {
  std::int64_t observedGeneration = 0;
  std::vector<Condition> conditions{};
  std::optional<EndpointCounts> endpoints{};
  // SPIFFE ID: spiffe://<trust-domain>/ns/<ns>/sa/<serviceAccount>.
  std::optional<std::string> identity{};
  std::optional<CertificateStatus> certificate{};

  bool operator==(const MeshServiceStatus&) const = default;
};

struct MeshService {
  static constexpr std::string_view kApiVersion = "meshgate.io/v1alpha1";
  static constexpr std::string_view kKind = "MeshService";

  ObjectMeta metadata{};
  MeshServiceSpec spec{};
  MeshServiceStatus status{};

  bool operator==(const MeshService&) const = default;
};

namespace protocol {
inline constexpr std::string_view kHTTP = "HTTP";
inline constexpr std::string_view kHTTP2 = "HTTP2";
inline constexpr std::string_view kTCP = "TCP";
}  // namespace protocol

namespace lb_policy {
inline constexpr std::string_view kRoundRobin = "RoundRobin";
inline constexpr std::string_view kLeastRequest = "LeastRequest";
inline constexpr std::string_view kRandom = "Random";
inline constexpr std::string_view kRingHash = "RingHash";
}  // namespace lb_policy

namespace mtls_mode {
inline constexpr std::string_view kStrict = "Strict";
inline constexpr std::string_view kPermissive = "Permissive";
inline constexpr std::string_view kDisabled = "Disabled";
}  // namespace mtls_mode

// Circuit-breaker limits the proxy applies when a field is absent.
inline constexpr std::int64_t kDefaultMaxConnections = 1024;
inline constexpr std::int64_t kDefaultMaxPendingRequests = 1024;
inline constexpr std::int64_t kDefaultMaxRequests = 1024;
inline constexpr std::int64_t kDefaultMaxRetries = 3;

}  // namespace meshgate::api
