// verifyJwt: checks a compact JWS JSON Web Token (RFC 7515/7519) against an issuer's JwkSet and a
// JwtPolicy — signature first (RS/PS/ES/EdDSA through OpenSSL 3 EVP), then issuer, audience and
// validity times. Called by the gateway's JWT authentication filter on a VerifiedTokenCache miss;
// checkTimes() re-checks a cached token. Pure and thread-safe (the JwkSet is immutable).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "dataplane/auth/jwk_set.h"

namespace meshgate::auth {

enum class JwtFailure : uint8_t {
  Malformed,
  TooLarge,
  UnsupportedAlgorithm,
  UnknownKey,
  KeyMismatch,
  BadSignature,
  UnsupportedCritical,
  MissingExpiry,
  Expired,
  NotYetValid,
  WrongIssuer,
  WrongAudience,
};

// Short text safe for a client (WWW-Authenticate error_description): the category only, never any
// part of the token.
std::string_view describe(JwtFailure failure);
// Metrics label: "malformed", "too_large", ...
std::string_view name(JwtFailure failure);

struct JwtPolicy {
  std::string issuer;                  // "iss" must equal it
  std::vector<std::string> audiences;  // any one must appear in "aud"; empty accepts no token
  std::chrono::seconds clockSkew{60};  // tolerance on exp and nbf (negative counts as zero)
  size_t maxTokenBytes = 8192;
};

struct VerifiedJwt {
  nlohmann::json header;                  // the JOSE header object
  nlohmann::json claims;                  // the payload object
  std::string subject;                    // "sub" when a string, else empty
  std::int64_t expiresAt = 0;             // "exp", unix seconds (required)
  std::optional<std::int64_t> notBefore;  // "nbf"
};

// Checks in this order, reporting the first failure: size; structure, base64url and strict JSON of
// header and payload; "alg" (RS256/384/512, PS256/384/512, ES256, ES384, EdDSA — never "none" or
// HMAC); "crit" (no extension is understood, so any "crit" fails); the key ("kid" names it, else
// every key fitting the algorithm is tried); the signature; then the claims.
Expected<VerifiedJwt, JwtFailure> verifyJwt(std::string_view token, const JwkSet& keys,
                                            const JwtPolicy& policy, std::int64_t nowUnixSeconds);

// The time checks alone (exp, nbf with skew), for a token served from the cache.
std::optional<JwtFailure> checkTimes(const VerifiedJwt& jwt, const JwtPolicy& policy,
                                     std::int64_t nowUnixSeconds);

}  // namespace meshgate::auth
