// Auth: ApiRoute client authentication, used as the route default (`spec.auth`) and as a rule's
// override (`spec.rules[].auth`, the only place `disabled` is allowed). Read by the gateway
// proxy; Secrets named here are resolved by the operator.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshgate::api {

// A key of a Secret in the object's namespace.
struct SecretKeyRef {
  std::string name{};
  // Absent: the consumer's default key (kDefaultJwksKey, kDefaultApiKeysKey).
  std::optional<std::string> key{};

  bool operator==(const SecretKeyRef&) const = default;
};

// Where the JWT signing keys come from: exactly one of a Secret or an https:// URI.
struct Jwks {
  std::optional<SecretKeyRef> secretRef{};
  std::optional<std::string> uri{};

  bool operator==(const Jwks&) const = default;
};

// Copies a verified token claim into a request header for the backend.
struct ClaimHeader {
  std::string claim{};
  std::string header{};

  bool operator==(const ClaimHeader&) const = default;
};

struct JwtAuth {
  std::string issuer{};
  std::vector<std::string> audiences{};
  Jwks jwks{};
  std::vector<ClaimHeader> claimHeaders{};
  // Where the token is read instead of `Authorization: Bearer`: a request header (its value, with
  // a "Bearer " prefix dropped) and/or a cookie, tried in that order. Absent: Authorization.
  std::optional<std::string> tokenHeader{};
  std::optional<std::string> tokenCookie{};

  bool operator==(const JwtAuth&) const = default;
};

struct ApiKeyAuth {
  SecretKeyRef secretRef{};
  // The request header that carries the key (the CRD defaults it to x-api-key).
  std::optional<std::string> header{};
  // Also accepted from this query parameter when the header is absent (absent: header only).
  std::optional<std::string> queryParam{};

  bool operator==(const ApiKeyAuth&) const = default;
};

struct Auth {
  std::optional<JwtAuth> jwt{};
  std::optional<ApiKeyAuth> apiKey{};
  // Requests without credentials pass; bad credentials still fail.
  std::optional<bool> allowAnonymous{};
  // Only in a rule override: turns authentication off for that rule.
  std::optional<bool> disabled{};

  bool operator==(const Auth&) const = default;
};

inline constexpr std::string_view kDefaultJwksKey = "jwks.json";
inline constexpr std::string_view kDefaultApiKeysKey = "api-keys";

}  // namespace meshgate::api
