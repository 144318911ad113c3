// Fuzzes JWT verification (dataplane/auth/jwt_verifier.h) as the proxy's auth filter calls it:
// the input is the bearer token, checked against a fixed JWKS (ES256, RS256 and EdDSA keys whose
// private halves signed the seeds in fuzz/corpus/jwt/) at a fixed time. Invariants: nothing
// throws or crashes; verification is deterministic; an accepted token has the policy's issuer,
// an audience of the policy and an expiry after the check time minus the skew, and its cached
// form passes the time checks at that time.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "dataplane/auth/jwk_set.h"
#include "dataplane/auth/jwt_verifier.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace meshgate::auth;

// Public keys only; the seeds' tokens were signed by meshgate-jwt-mint with their private keys.
constexpr std::string_view kJwks =
    R"({"keys":[{"alg":"ES256","crv":"P-256","kid":"es","kty":"EC","use":"sig","x":"IT9mil_TXPp-lnNQMv6DCWc01OImdWDMhGyCwyEgvwo","y":"o0wijds_Ay4IAmkuAMqENmL9mx4zig1P2wLqafSIbzs"},{"alg":"RS256","e":"AQAB","kid":"rs","kty":"RSA","n":"qkeyaA5YN-qsDrXMpIOxclJkZUg0egU7yKz4ipF7QxrT6FVjuJ_lQRyrhg_QqdKgZocTN_o9fDDFuxkfBjONyyFLJAipl2Kx_d1rN8NPDb1VvcoLwwwb_0U2Z9o2941JDx7u1ZvZiEtwCVWCIOX6iwPbbh8bzB_kwDf0eBZfS_BIDcJn0ES-ZmEbEWYCdBUXwhEUKPDKEZnAky03_R0TJKgY3THthvb-9sDsr9OJPCHqaINAYsUA9Mxk-xcf3sqDcrJJHgN4kgHEJLQ30hAci2DsgG28Uaj90KK7qQgTjLRKWCAQAbU_-cJvF_soGLQH0O4G4JeTzb5YyrH_bIuGmQ","use":"sig"},{"alg":"EdDSA","crv":"Ed25519","kid":"ed","kty":"OKP","use":"sig","x":"jB-50lx3hsTAMbrz5K_hdX9L9KZiTDDhp5gz3M1EewU"}]})";
constexpr std::int64_t kNow = 1'800'000'000;

const JwkSet& keys() {
  static const std::shared_ptr<const JwkSet> set = [] {
    auto parsed = JwkSet::parse(kJwks);
    FUZZ_CHECK(parsed.ok());
    return parsed.value();
  }();
  return *set;
}

const JwtPolicy& policy() {
  static const JwtPolicy value = [] {
    JwtPolicy p;
    p.issuer = "https://issuer.fuzz";
    p.audiences = {"fuzz"};
    return p;
  }();
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  const auto first = verifyJwt(token, keys(), policy(), kNow);
  const auto second = verifyJwt(token, keys(), policy(), kNow);
  FUZZ_CHECK(first.ok() == second.ok());
  if (!first.ok()) {
    FUZZ_CHECK(first.error() == second.error());
    FUZZ_CHECK(!describe(first.error()).empty());
    return 0;
  }
  const VerifiedJwt& jwt = first.value();
  FUZZ_CHECK(jwt.claims.is_object());
  FUZZ_CHECK(jwt.claims.value("iss", "") == policy().issuer);
  FUZZ_CHECK(jwt.expiresAt + policy().clockSkew.count() >= kNow);
  FUZZ_CHECK(!checkTimes(jwt, policy(), kNow).has_value());
  return 0;
}
