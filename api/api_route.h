// ApiRoute (meshgate.io/v1alpha1, short name `ar`): how clients outside the cluster reach mesh
// services through the gateway. The operator turns it into an Ingress, a host certificate and the
// gateway's config snapshot; the webhook defaults and validates it; the gateway proxy serves it.
// Field names and meanings are those of docs/API.md. Durations and enums keep their wire text so
// that validation can quote it.
// Every member has an initializer so callers can use designated initializers that name only
// the fields they set without tripping -Wmissing-field-initializers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/certificate_status.h"
#include "api/condition.h"
#include "api/object_meta.h"
#include "api/retries.h"

namespace meshgate::api {

struct RouteTls {
  // Absent: the operator issues a certificate for the hosts.
  std::optional<std::string> secretName{};
  std::optional<bool> redirectHTTP{};

  bool operator==(const RouteTls&) const = default;
};

struct PathMatch {
  // path_match::kPathPrefix, kExact or kRegularExpression.
  std::optional<std::string> type{};
  std::optional<std::string> value{};

  bool operator==(const PathMatch&) const = default;
};

// A header match; query parameter matches have the same shape.
struct HeaderMatch {
  std::string name{};
  // value_match::kExact or kRegularExpression.
  std::optional<std::string> type{};
  std::string value{};

  bool operator==(const HeaderMatch&) const = default;
};
using QueryParamMatch = HeaderMatch;

// All conditions of one match must hold; a rule matches when any of its matches does.
struct RouteMatch {
  std::optional<PathMatch> path{};
  std::optional<std::string> method{};
  std::vector<HeaderMatch> headers{};
  std::vector<QueryParamMatch> queryParams{};

  bool operator==(const RouteMatch&) const = default;
};

struct Backend {
  // A MeshService in the route's namespace.
  std::string service{};
  // Required; 0 means unset.
  std::int64_t port = 0;
  std::optional<std::int64_t> weight{};
  std::optional<std::string> subset{};

  bool operator==(const Backend&) const = default;
};

struct HeaderValue {
  std::string name{};
  std::string value{};

  bool operator==(const HeaderValue&) const = default;
};

struct HeaderModifier {
  std::vector<HeaderValue> set{};
  std::vector<HeaderValue> add{};
  std::vector<std::string> remove{};

  bool operator==(const HeaderModifier&) const = default;
};

struct Rewrite {
  std::optional<std::string> pathPrefix{};
  std::optional<std::string> hostname{};

  bool operator==(const Rewrite&) const = default;
};

struct Redirect {
  std::optional<std::string> scheme{};
  std::optional<std::string> hostname{};
  std::optional<std::int64_t> port{};
  std::optional<std::string> path{};
  std::optional<std::int64_t> statusCode{};

  bool operator==(const Redirect&) const = default;
};

struct Filters {
  std::optional<HeaderModifier> requestHeaders{};
  std::optional<HeaderModifier> responseHeaders{};
  std::optional<Rewrite> rewrite{};
  std::optional<Redirect> redirect{};

  bool operator==(const Filters&) const = default;
};

struct RateLimitKey {
  // rate_limit_key::kClientIP, kHeader, kApiKey or kJwtClaim.
  std::optional<std::string> type{};
  // The header name (Header) or the claim (JwtClaim).
  std::optional<std::string> name{};

  bool operator==(const RateLimitKey&) const = default;
};

struct RateLimit {
  // Required; 0 means unset.
  std::int64_t requests = 0;
  // rate_limit_unit::kSecond, kMinute or kHour; required.
  std::string unit{};
  // Absent: the proxy uses `requests`.
  std::optional<std::int64_t> burst{};
  std::optional<RateLimitKey> key{};

  bool operator==(const RateLimit&) const = default;
};

struct Cors {
  std::vector<std::string> allowOrigins{};
  std::vector<std::string> allowMethods{};
  std::vector<std::string> allowHeaders{};
  std::vector<std::string> exposeHeaders{};
  // Seconds.
  std::optional<std::int64_t> maxAge{};
  std::optional<bool> allowCredentials{};

  bool operator==(const Cors&) const = default;
};

struct RouteRule {
  // Empty: match every request (PathPrefix /).
  std::vector<RouteMatch> matches{};
  std::vector<Backend> backends{};
  std::optional<Filters> filters{};
  std::optional<std::string> timeout{};
  std::optional<Retries> retries{};
  std::optional<RateLimit> rateLimit{};
  std::optional<Auth> auth{};
  std::optional<Cors> cors{};

  bool operator==(const RouteRule&) const = default;
};

struct ApiRouteSpec {
  std::optional<std::string> ingressClassName{};
  std::vector<std::string> hosts{};
  std::optional<RouteTls> tls{};
  std::optional<Auth> auth{};
  std::vector<RouteRule> rules{};

  bool operator==(const ApiRouteSpec&) const = default;
};

struct DataplaneCounts {
  std::int64_t programmed = 0;
  std::int64_t total = 0;

  bool operator==(const DataplaneCounts&) const = default;
};

struct ApiRouteStatus {
  std::int64_t observedGeneration = 0;
  std::vector<Condition> conditions{};
  // Name of the Ingress the operator owns for this route.
  std::optional<std::string> ingress{};
  std::optional<CertificateStatus> certificate{};
  std::optional<DataplaneCounts> dataplanes{};

  bool operator==(const ApiRouteStatus&) const = default;
};

struct ApiRoute {
  static constexpr std::string_view kApiVersion = "meshgate.io/v1alpha1";
  static constexpr std::string_view kKind = "ApiRoute";

  ObjectMeta metadata{};
  ApiRouteSpec spec{};
  ApiRouteStatus status{};

  bool operator==(const ApiRoute&) const = default;
};

namespace path_match {
inline constexpr std::string_view kPathPrefix = "PathPrefix";
inline constexpr std::string_view kExact = "Exact";
inline constexpr std::string_view kRegularExpression = "RegularExpression";
}  // namespace path_match

namespace value_match {
inline constexpr std::string_view kExact = "Exact";
inline constexpr std::string_view kRegularExpression = "RegularExpression";
}  // namespace value_match

namespace rate_limit_unit {
inline constexpr std::string_view kSecond = "Second";
inline constexpr std::string_view kMinute = "Minute";
inline constexpr std::string_view kHour = "Hour";
}  // namespace rate_limit_unit

namespace rate_limit_key {
inline constexpr std::string_view kClientIP = "ClientIP";
inline constexpr std::string_view kHeader = "Header";
inline constexpr std::string_view kApiKey = "ApiKey";
inline constexpr std::string_view kJwtClaim = "JwtClaim";
}  // namespace rate_limit_key

}  // namespace meshgate::api
