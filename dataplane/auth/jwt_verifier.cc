// verifyJwt: compact JWS parsing, signature verification with EVP_DigestVerify and the claim
// checks of RFC 7519 §4.1 that the gateway enforces.
#include "dataplane/auth/jwt_verifier.h"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "dataplane/auth/base64url.h"
#include "dataplane/auth/strict_json.h"

namespace meshgate::auth {
namespace {

using nlohmann::json;

enum class Family { RsaPkcs1, RsaPss, Ecdsa, EdDsa };

struct Algorithm {
  std::string_view name;
  Family family;
  const EVP_MD* (*digest)();  // nullptr for EdDSA, which hashes internally
  const char* digestName;     // for the PSS MGF1 parameter
  size_t ecCoordinateSize;    // r and s each, for ECDSA
  std::string_view curve;     // the JWK "crv" an EC/OKP key must have
};

constexpr std::array<Algorithm, 9> kAlgorithms{{
    {"RS256", Family::RsaPkcs1, EVP_sha256, "SHA256", 0, ""},
    {"RS384", Family::RsaPkcs1, EVP_sha384, "SHA384", 0, ""},
    {"RS512", Family::RsaPkcs1, EVP_sha512, "SHA512", 0, ""},
    {"PS256", Family::RsaPss, EVP_sha256, "SHA256", 0, ""},
    {"PS384", Family::RsaPss, EVP_sha384, "SHA384", 0, ""},
    {"PS512", Family::RsaPss, EVP_sha512, "SHA512", 0, ""},
    {"ES256", Family::Ecdsa, EVP_sha256, "SHA256", 32, "P-256"},
    {"ES384", Family::Ecdsa, EVP_sha384, "SHA384", 48, "P-384"},
    {"EdDSA", Family::EdDsa, nullptr, nullptr, 0, "Ed25519"},
}};

const Algorithm* findAlgorithm(std::string_view name) {
  for (const Algorithm& alg : kAlgorithms) {
    if (alg.name == name) return &alg;
  }
  return nullptr;
}

// Kty and crv fit the algorithm, and the JWK's own "alg", when set, is the token's.
bool fits(const Jwk& jwk, const Algorithm& alg) {
  if (jwk.alg && *jwk.alg != alg.name) return false;
  switch (alg.family) {
    case Family::RsaPkcs1:
    case Family::RsaPss:
      return jwk.type == JwkType::Rsa;
    case Family::Ecdsa:
      return jwk.type == JwkType::Ec && jwk.curve == alg.curve;
    case Family::EdDsa:
      return jwk.type == JwkType::Okp && jwk.curve == alg.curve;
  }
  return false;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

// JOSE's fixed-width r‖s (RFC 7518 §3.4) as the DER ECDSA-Sig-Value OpenSSL verifies.
std::optional<std::string> joseToDer(std::string_view signature, size_t coordinateSize) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(signature.data());
  const int size = static_cast<int>(coordinateSize);
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, size, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + size, size, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) return std::nullopt;
  return der;
}

bool verifySignature(const Algorithm& alg, EVP_PKEY* key, std::string_view signingInput,
                     std::string_view signature) {
  std::string der;
  switch (alg.family) {
    case Family::RsaPkcs1:
    case Family::RsaPss:
      // Exactly the modulus length: OpenSSL's raw PSS path would accept a shortened value.
      if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key))) return false;
      break;
    case Family::Ecdsa: {
      if (signature.size() != 2 * alg.ecCoordinateSize) return false;
      auto converted = joseToDer(signature, alg.ecCoordinateSize);
      if (!converted) return false;
      der = std::move(*converted);
      signature = der;
      break;
    }
    case Family::EdDsa:
      break;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  EVP_PKEY_CTX* pkeyCtx = nullptr;  // owned by ctx
  const EVP_MD* md = alg.digest != nullptr ? alg.digest() : nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pkeyCtx, md, nullptr, key) != 1) return false;
  if (alg.family == Family::RsaPkcs1 || alg.family == Family::RsaPss) {
    // Set explicitly rather than trusting defaults: PKCS#1 v1.5, or PSS with MGF1 over the same
    // hash and a salt exactly as long as the hash (RFC 7518 §3.5).
    char pkcs1[] = OSSL_PKEY_RSA_PAD_MODE_PKCSV15;
    char pss[] = OSSL_PKEY_RSA_PAD_MODE_PSS;
    char saltDigest[] = OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST;
    std::string mgf1 = alg.digestName;
    std::array<OSSL_PARAM, 4> params{};
    if (alg.family == Family::RsaPkcs1) {
      params[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, pkcs1, 0);
      params[1] = OSSL_PARAM_construct_end();
    } else {
      params[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, pss, 0);
      params[1] =
          OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, mgf1.data(), 0);
      params[2] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, saltDigest, 0);
      params[3] = OSSL_PARAM_construct_end();
    }
    if (pkeyCtx == nullptr || EVP_PKEY_CTX_set_params(pkeyCtx, params.data()) != 1) return false;
  }
  return EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
             reinterpret_cast<const unsigned char*>(signingInput.data()), signingInput.size()) == 1;
}

// A NumericDate (RFC 7519 §2): integer or floating seconds, truncated toward zero and clamped to
// int64 so that absurd values compare sanely instead of overflowing.
std::optional<std::int64_t> numericDate(const json& value) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    return v > static_cast<std::uint64_t>(kMax) ? kMax : static_cast<std::int64_t>(v);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (v >= 9.2e18) return kMax;
    if (v <= -9.2e18) return kMin;
    return static_cast<std::int64_t>(v);
  }
  return std::nullopt;
}

std::int64_t saturatingAdd(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

std::optional<json> decodeObject(std::string_view part) {
  auto bytes = base64UrlDecode(part);
  if (!bytes) return std::nullopt;
  auto parsed = parseStrictJson(*bytes);
  if (!parsed.ok() || !parsed.value().is_object()) return std::nullopt;
  return std::move(parsed.value());
}

// Claims, after the signature has been verified.
Expected<VerifiedJwt, JwtFailure> checkClaims(json header, json claims, const JwtPolicy& policy,
                                              std::int64_t now) {
  VerifiedJwt jwt;
  const auto exp = claims.find("exp");
  if (exp == claims.end()) return JwtFailure::MissingExpiry;
  const auto expiresAt = numericDate(*exp);
  if (!expiresAt) return JwtFailure::Malformed;
  jwt.expiresAt = *expiresAt;
  if (const auto nbf = claims.find("nbf"); nbf != claims.end()) {
    jwt.notBefore = numericDate(*nbf);
    if (!jwt.notBefore) return JwtFailure::Malformed;
  }
  std::vector<const std::string*> audiences;
  if (const auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) {
      audiences.push_back(&aud->get_ref<const std::string&>());
    } else if (aud->is_array()) {
      for (const json& entry : *aud) {
        if (!entry.is_string()) return JwtFailure::Malformed;
        audiences.push_back(&entry.get_ref<const std::string&>());
      }
    } else {
      return JwtFailure::Malformed;
    }
  }
  if (const auto failure = checkTimes(jwt, policy, now)) return *failure;
  const auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() ||
      iss->get_ref<const std::string&>() != policy.issuer) {
    return JwtFailure::WrongIssuer;
  }
  const bool audienceMatches = std::any_of(audiences.begin(), audiences.end(), [&](const auto* a) {
    return std::find(policy.audiences.begin(), policy.audiences.end(), *a) !=
           policy.audiences.end();
  });
  if (!audienceMatches) return JwtFailure::WrongAudience;
  if (const auto sub = claims.find("sub"); sub != claims.end() && sub->is_string()) {
    jwt.subject = sub->get<std::string>();
  }
  jwt.header = std::move(header);
  jwt.claims = std::move(claims);
  return jwt;
}

Expected<VerifiedJwt, JwtFailure> verify(std::string_view token, const JwkSet& keys,
                                         const JwtPolicy& policy, std::int64_t now) {
  if (token.size() > policy.maxTokenBytes) return JwtFailure::TooLarge;

  const size_t firstDot = token.find('.');
  if (firstDot == std::string_view::npos) return JwtFailure::Malformed;
  const size_t secondDot = token.find('.', firstDot + 1);
  if (secondDot == std::string_view::npos) return JwtFailure::Malformed;
  if (token.find('.', secondDot + 1) != std::string_view::npos) return JwtFailure::Malformed;
  const std::string_view headerPart = token.substr(0, firstDot);
  const std::string_view payloadPart = token.substr(firstDot + 1, secondDot - firstDot - 1);
  const std::string_view signaturePart = token.substr(secondDot + 1);
  if (headerPart.empty() || payloadPart.empty() || signaturePart.empty()) {
    return JwtFailure::Malformed;
  }
  auto header = decodeObject(headerPart);
  if (!header) return JwtFailure::Malformed;
  auto claims = decodeObject(payloadPart);
  if (!claims) return JwtFailure::Malformed;
  const auto signature = base64UrlDecode(signaturePart);
  if (!signature) return JwtFailure::Malformed;

  const auto algMember = header->find("alg");
  if (algMember == header->end() || !algMember->is_string()) return JwtFailure::Malformed;
  const auto kidMember = header->find("kid");
  if (kidMember != header->end() && !kidMember->is_string()) return JwtFailure::Malformed;

  const Algorithm* alg = findAlgorithm(algMember->get_ref<const std::string&>());
  if (alg == nullptr) return JwtFailure::UnsupportedAlgorithm;
  // RFC 7515 §4.1.11: a recipient must reject extensions it does not understand — all of them.
  if (header->contains("crit")) return JwtFailure::UnsupportedCritical;

  // The key is chosen from the trusted set only; "jwk", "jku", "x5u" and "x5c" are ignored.
  std::vector<const Jwk*> candidates;
  if (kidMember != header->end()) {
    const Jwk* jwk = keys.find(kidMember->get_ref<const std::string&>());
    if (jwk == nullptr) return JwtFailure::UnknownKey;
    if (!fits(*jwk, *alg)) return JwtFailure::KeyMismatch;
    candidates.push_back(jwk);
  } else {
    for (const Jwk& jwk : keys.keys()) {
      if (fits(jwk, *alg)) candidates.push_back(&jwk);
    }
    if (candidates.empty()) return JwtFailure::UnknownKey;
  }
  const std::string_view signingInput = token.substr(0, secondDot);
  const bool verified = std::any_of(candidates.begin(), candidates.end(), [&](const Jwk* jwk) {
    return verifySignature(*alg, jwk->key.get(), signingInput, *signature);
  });
  if (!verified) return JwtFailure::BadSignature;

  return checkClaims(std::move(*header), std::move(*claims), policy, now);
}

}  // namespace

std::string_view describe(JwtFailure failure) {
  switch (failure) {
    case JwtFailure::Malformed:
      return "malformed token";
    case JwtFailure::TooLarge:
      return "token too large";
    case JwtFailure::UnsupportedAlgorithm:
      return "unsupported signing algorithm";
    case JwtFailure::UnknownKey:
      return "unknown signing key";
    case JwtFailure::KeyMismatch:
      return "signing key does not match algorithm";
    case JwtFailure::BadSignature:
      return "signature verification failed";
    case JwtFailure::UnsupportedCritical:
      return "unsupported critical header";
    case JwtFailure::MissingExpiry:
      return "token has no expiry";
    case JwtFailure::Expired:
      return "token expired";
    case JwtFailure::NotYetValid:
      return "token not yet valid";
    case JwtFailure::WrongIssuer:
      return "wrong issuer";
    case JwtFailure::WrongAudience:
      return "wrong audience";
  }
  return "invalid token";
}

std::string_view name(JwtFailure failure) {
  switch (failure) {
    case JwtFailure::Malformed:
      return "malformed";
    case JwtFailure::TooLarge:
      return "too_large";
    case JwtFailure::UnsupportedAlgorithm:
      return "unsupported_algorithm";
    case JwtFailure::UnknownKey:
      return "unknown_key";
    case JwtFailure::KeyMismatch:
      return "key_mismatch";
    case JwtFailure::BadSignature:
      return "bad_signature";
    case JwtFailure::UnsupportedCritical:
      return "unsupported_critical";
    case JwtFailure::MissingExpiry:
      return "missing_expiry";
    case JwtFailure::Expired:
      return "expired";
    case JwtFailure::NotYetValid:
      return "not_yet_valid";
    case JwtFailure::WrongIssuer:
      return "wrong_issuer";
    case JwtFailure::WrongAudience:
      return "wrong_audience";
  }
  return "invalid";
}

Expected<VerifiedJwt, JwtFailure> verifyJwt(std::string_view token, const JwkSet& keys,
                                            const JwtPolicy& policy, std::int64_t nowUnixSeconds) {
  auto result = verify(token, keys, policy, nowUnixSeconds);
  // Failed verifications leave OpenSSL errors on this thread's queue; drop them per token.
  ERR_clear_error();
  return result;
}

std::optional<JwtFailure> checkTimes(const VerifiedJwt& jwt, const JwtPolicy& policy,
                                     std::int64_t nowUnixSeconds) {
  const std::int64_t skew = std::max<std::int64_t>(0, policy.clockSkew.count());
  if (nowUnixSeconds > saturatingAdd(jwt.expiresAt, skew)) return JwtFailure::Expired;
  if (jwt.notBefore && saturatingAdd(nowUnixSeconds, skew) < *jwt.notBefore) {
    return JwtFailure::NotYetValid;
  }
  return std::nullopt;
}

}  // namespace meshgate::auth
