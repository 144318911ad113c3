// JwkSet: the public keys of one token issuer, parsed from a JSON Web Key Set (RFC 7517) into
// OpenSSL EVP_PKEYs once, so that verifying a JWT does no key parsing. Built by whoever loads an
// issuer's keys (configuration or a JWKS fetch); read by verifyJwt. Immutable once parsed, hence
// safe to share between worker threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

#include "base/expected.h"

namespace meshgate::auth {

enum class JwkType { Rsa, Ec, Okp };

struct Jwk {
  std::string kid;  // may be empty when the JWK has none
  JwkType type;
  std::string curve;               // "P-256", "P-384", "Ed25519" (empty for RSA)
  std::optional<std::string> alg;  // the JWK's "alg", when set: a token must use exactly it
  std::shared_ptr<EVP_PKEY> key;   // public key
};

class JwkSet {
 public:
  // {"keys": [...]}. Skipped: keys whose "use" is not "sig", whose "key_ops" lack "verify", kty
  // "oct" (symmetric keys are never usable, so HMAC algorithm confusion is impossible), unknown
  // kty or crv, RSA under 2048 bits. Errors: a malformed supported key (bad base64url, wrong
  // coordinate length, point not on the curve, even or tiny RSA exponent), a non-string
  // kid/alg/use, a duplicate kid, no usable key at all. Errors are short, name the key's index
  // and never quote key material.
  static Expected<std::shared_ptr<const JwkSet>, std::string> parse(std::string_view json);

  // nullptr when absent; an empty kid never matches (a token's "kid": "" names no key).
  const Jwk* find(std::string_view kid) const;
  const std::vector<Jwk>& keys() const { return keys_; }

 private:
  explicit JwkSet(std::vector<Jwk> keys) : keys_(std::move(keys)) {}

  std::vector<Jwk> keys_;
};

}  // namespace meshgate::auth
