// Test-only JWT forge for the auth tests: generates keys with OpenSSL, publishes them as JWKs and
// signs tokens for every supported algorithm — or deliberately broken ones (arbitrary header and
// payload text, raw signature bytes, DER ECDSA, wrong PSS salt, HMAC with any secret).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <nlohmann/json.hpp>

#include "dataplane/auth/base64url.h"
#include "dataplane/auth/jwk_set.h"
#include "dataplane/auth/jwt_verifier.h"

namespace meshgate::auth::testing {

using PkeyPtr = std::shared_ptr<EVP_PKEY>;

inline void forgeCheck(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("jwt_forge: ") + what);
}

inline PkeyPtr ownKey(EVP_PKEY* key, const char* what) {
  forgeCheck(key != nullptr, what);
  return PkeyPtr(key, EVP_PKEY_free);
}

inline PkeyPtr generateRsaKey(size_t bits = 2048) {
  return ownKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits), "RSA keygen");
}
// curve: "P-256" or "P-384".
inline PkeyPtr generateEcKey(std::string_view curve) {
  const char* group = curve == "P-256" ? "prime256v1" : "secp384r1";
  return ownKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group), "EC keygen");
}
inline PkeyPtr generateEd25519Key() {
  return ownKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), "Ed25519 keygen");
}

inline std::string bignumParam(EVP_PKEY* key, const char* name, int width = 0) {
  BIGNUM* bn = nullptr;
  forgeCheck(EVP_PKEY_get_bn_param(key, name, &bn) == 1, name);
  std::string bytes(static_cast<size_t>(width > 0 ? width : BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  BN_free(bn);
  return bytes;
}

// The public JWK of key (RSA, EC P-256/P-384 or Ed25519); kid and alg omitted when empty.
inline nlohmann::json publicJwk(EVP_PKEY* key, std::string_view kid = "",
                                std::string_view alg = "") {
  nlohmann::json jwk = nlohmann::json::object();
  if (EVP_PKEY_is_a(key, "RSA")) {
    jwk["kty"] = "RSA";
    jwk["n"] = base64UrlEncode(bignumParam(key, OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = base64UrlEncode(bignumParam(key, OSSL_PKEY_PARAM_RSA_E));
  } else if (EVP_PKEY_is_a(key, "EC")) {
    const int bits = EVP_PKEY_get_bits(key);
    const int width = (bits + 7) / 8;
    jwk["kty"] = "EC";
    jwk["crv"] = bits == 256 ? "P-256" : "P-384";
    jwk["x"] = base64UrlEncode(bignumParam(key, OSSL_PKEY_PARAM_EC_PUB_X, width));
    jwk["y"] = base64UrlEncode(bignumParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, width));
  } else {
    std::string raw(32, '\0');
    size_t length = raw.size();
    forgeCheck(EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()),
                                           &length) == 1,
               "raw public key");
    raw.resize(length);
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = base64UrlEncode(raw);
  }
  if (!kid.empty()) jwk["kid"] = kid;
  if (!alg.empty()) jwk["alg"] = alg;
  return jwk;
}

inline std::string jwks(const std::vector<nlohmann::json>& keys) {
  return nlohmann::json{{"keys", keys}}.dump();
}

// SubjectPublicKeyInfo of key, PEM or DER: the secret of the classic HS256 confusion attack.
inline std::string publicKeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  forgeCheck(bio != nullptr && PEM_write_bio_PUBKEY(bio, key) == 1, "PEM");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  return pem;
}
inline std::string publicKeyDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  forgeCheck(length > 0, "DER");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

struct SignOptions {
  bool ecdsaDer = false;             // ES*: leave OpenSSL's DER instead of JOSE r‖s
  std::optional<int> pssSaltLength;  // PS*: salt length in bytes instead of the hash length
};

inline const EVP_MD* digestOf(std::string_view alg) {
  if (alg.ends_with("256")) return EVP_sha256();
  if (alg.ends_with("384")) return EVP_sha384();
  if (alg.ends_with("512")) return EVP_sha512();
  return nullptr;  // EdDSA
}

// Signature bytes over input, as the JWS algorithm alg (RS*, PS*, ES*, EdDSA) would make them.
inline std::string signBytes(std::string_view alg, EVP_PKEY* key, std::string_view input,
                             const SignOptions& options = {}) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pkeyCtx = nullptr;
  forgeCheck(EVP_DigestSignInit(ctx, &pkeyCtx, digestOf(alg), nullptr, key) == 1, "sign init");
  if (alg.starts_with("PS")) {
    char pss[] = "pss";
    std::string mgf1 = alg.ends_with("256") ? "SHA256" : alg.ends_with("384") ? "SHA384" : "SHA512";
    int salt = options.pssSaltLength.value_or(EVP_MD_get_size(digestOf(alg)));
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, pss, 0),
        OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, mgf1.data(), 0),
        OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &salt),
        OSSL_PARAM_construct_end()};
    forgeCheck(EVP_PKEY_CTX_set_params(pkeyCtx, params) == 1, "PSS params");
  }
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  forgeCheck(EVP_DigestSign(ctx, nullptr, &length, data, input.size()) == 1, "sign size");
  std::string signature(length, '\0');
  forgeCheck(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                            input.size()) == 1,
             "sign");
  signature.resize(length);
  EVP_MD_CTX_free(ctx);
  if (!alg.starts_with("ES") || options.ecdsaDer) return signature;
  // DER ECDSA-Sig-Value to JOSE's fixed-width r‖s.
  const size_t width = alg == "ES256" ? 32 : 48;
  const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
  forgeCheck(sig != nullptr, "ECDSA DER");
  std::string jose(2 * width, '\0');
  auto* out = reinterpret_cast<unsigned char*>(jose.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, static_cast<int>(width));
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + width, static_cast<int>(width));
  ECDSA_SIG_free(sig);
  return jose;
}

// HMAC for HS256/384/512 with an arbitrary secret.
inline std::string hmacBytes(std::string_view alg, std::string_view secret,
                             std::string_view input) {
  const char* digest = alg.ends_with("256") ? "SHA256" : alg.ends_with("384") ? "SHA384" : "SHA512";
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t length = 0;
  forgeCheck(EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, secret.data(), secret.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
                       sizeof(out), &length) != nullptr,
             "HMAC");
  return std::string(reinterpret_cast<char*>(out), length);
}

// base64url(header) "." base64url(payload): the JWS signing input.
inline std::string signingInput(std::string_view headerJson, std::string_view payloadJson) {
  return base64UrlEncode(headerJson) + "." + base64UrlEncode(payloadJson);
}

// A compact token from header and payload text and raw signature bytes.
inline std::string compact(std::string_view headerJson, std::string_view payloadJson,
                           std::string_view signature) {
  return signingInput(headerJson, payloadJson) + "." + base64UrlEncode(signature);
}

inline std::string signToken(std::string_view alg, EVP_PKEY* key, std::string_view headerJson,
                             std::string_view payloadJson, const SignOptions& options = {}) {
  return compact(headerJson, payloadJson,
                 signBytes(alg, key, signingInput(headerJson, payloadJson), options));
}

// JSON text of {"alg": alg, "kid": kid}, without kid when empty.
inline std::string headerJson(std::string_view alg, std::string_view kid = "") {
  nlohmann::json header{{"alg", alg}};
  if (!kid.empty()) header["kid"] = kid;
  return header.dump();
}

constexpr std::int64_t kNow = 1'700'000'000;
constexpr const char* kIssuer = "https://issuer.example";
constexpr const char* kAudience = "api://orders";

inline JwtPolicy testPolicy() {
  JwtPolicy policy;
  policy.issuer = kIssuer;
  policy.audiences = {"api://other", kAudience};
  return policy;
}

// Claims that pass testPolicy() at kNow.
inline nlohmann::json validClaims() {
  return {{"iss", kIssuer},    {"aud", kAudience},  {"sub", "alice"},
          {"exp", kNow + 600}, {"nbf", kNow - 600}, {"iat", kNow - 600}};
}

inline const std::vector<std::string>& allAlgorithms() {
  static const std::vector<std::string> algs{"RS256", "RS384", "RS512", "PS256", "PS384",
                                             "PS512", "ES256", "ES384", "EdDSA"};
  return algs;
}

// One key of each kind, published under kids "rsa", "ec256", "ec384" and "ed25519", plus keys of
// the same kinds that are not in the set. Generated once per test binary.
struct TestKeys {
  PkeyPtr rsa = generateRsaKey();
  PkeyPtr ec256 = generateEcKey("P-256");
  PkeyPtr ec384 = generateEcKey("P-384");
  PkeyPtr ed25519 = generateEd25519Key();
  PkeyPtr otherRsa = generateRsaKey();
  PkeyPtr otherEc256 = generateEcKey("P-256");
  PkeyPtr otherEc384 = generateEcKey("P-384");
  PkeyPtr otherEd25519 = generateEd25519Key();
  std::string jwksJson =
      jwks({publicJwk(rsa.get(), "rsa"), publicJwk(ec256.get(), "ec256"),
            publicJwk(ec384.get(), "ec384"), publicJwk(ed25519.get(), "ed25519")});
  std::shared_ptr<const JwkSet> set = parseOrThrow(jwksJson);

  static std::shared_ptr<const JwkSet> parseOrThrow(std::string_view json) {
    auto parsed = JwkSet::parse(json);
    forgeCheck(parsed.ok(), "test JWKS does not parse");
    return parsed.value();
  }

  // The in-set key and its kid for alg.
  EVP_PKEY* keyFor(std::string_view alg) const {
    if (alg.starts_with("RS") || alg.starts_with("PS")) return rsa.get();
    if (alg == "ES256") return ec256.get();
    if (alg == "ES384") return ec384.get();
    return ed25519.get();
  }
  EVP_PKEY* otherKeyFor(std::string_view alg) const {
    if (alg.starts_with("RS") || alg.starts_with("PS")) return otherRsa.get();
    if (alg == "ES256") return otherEc256.get();
    if (alg == "ES384") return otherEc384.get();
    return otherEd25519.get();
  }
  static std::string_view kidFor(std::string_view alg) {
    if (alg.starts_with("RS") || alg.starts_with("PS")) return "rsa";
    if (alg == "ES256") return "ec256";
    if (alg == "ES384") return "ec384";
    return "ed25519";
  }

  // A token that verifies under testPolicy() at kNow, with the given claims.
  std::string validToken(std::string_view alg, const nlohmann::json& claims = validClaims()) const {
    return signToken(alg, keyFor(alg), headerJson(alg, kidFor(alg)), claims.dump());
  }
};

inline const TestKeys& testKeys() {
  static const TestKeys keys;
  return keys;
}

}  // namespace meshgate::auth::testing
