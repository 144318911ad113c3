// PrivateKey owns an OpenSSL EVP_PKEY: the CA's signing key or a workload's key. The operator
// generates ECDSA P-256 keys for everything it issues and reads user-supplied CA keys from the
// `meshgate-ca` Secret; certificates are matched to keys by public key (Certificate::matchesKey).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "pki/error.h"

namespace pki {

/**
 * An immutable private key. Copies share the underlying EVP_PKEY (reference counted), so passing
 * a PrivateKey by value is cheap; concurrent read-only use from several threads is safe. A
 * moved-from PrivateKey may only be assigned to or destroyed.
 */
class PrivateKey {
 public:
  // A fresh ECDSA key on NIST P-256 (prime256v1), named-curve encoding.
  static Result<PrivateKey> generateEcdsaP256();

  // Reads the first private key in `pem`: PKCS#8 ("PRIVATE KEY") or the traditional
  // "EC PRIVATE KEY" / "RSA PRIVATE KEY" forms. Encrypted keys are refused (there is no one to
  // type a passphrase); the error never quotes the input.
  static Result<PrivateKey> fromPem(std::string_view pem);

  // Unencrypted PKCS#8 ("-----BEGIN PRIVATE KEY-----"), as `tls.key` in a kubernetes.io/tls Secret.
  Result<std::string> toPem() const;

  // The DER SubjectPublicKeyInfo of the public half; what a certificate for this key carries.
  const std::string& publicKeyDer() const { return publicKeyDer_; }

  // True when both keys have the same public key (compared by OpenSSL, not by encoding).
  bool samePublicKey(const PrivateKey& other) const;

  // "EC P-256", "RSA 2048", "ED25519": for messages, never key material.
  std::string description() const;

  // Borrowed; valid while this PrivateKey (or a copy) lives.
  EVP_PKEY* get() const { return key_.get(); }

 private:
  PrivateKey(std::shared_ptr<EVP_PKEY> key, std::string publicKeyDer)
      : key_(std::move(key)), publicKeyDer_(std::move(publicKeyDer)) {}
  static Result<PrivateKey> adopt(EVP_PKEY* key);

  std::shared_ptr<EVP_PKEY> key_;
  std::string publicKeyDer_;
};

}  // namespace pki
