// Certificate owns an OpenSSL X509 and answers what the operator asks of one: who it names
// (subject, SANs), who issued it, when it is valid, whether it is a CA and whether a key belongs
// to it. Parsed from the `tls.crt` / `ca.crt` of Secrets and produced by CertificateAuthority.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "pki/error.h"
#include "pki/private_key.h"

namespace pki {

/**
 * An immutable X.509 certificate. Copies share the underlying X509 (reference counted); concurrent
 * read-only use is safe. A moved-from Certificate may only be assigned to or destroyed.
 */
class Certificate {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // Exactly one certificate in `pem`; use parseCertificates() for bundles.
  static Result<Certificate> fromPem(std::string_view pem);
  static Result<Certificate> fromDer(std::string_view der);
  // Takes ownership of `x509` (also when it returns an error).
  static Result<Certificate> adopt(X509* x509);

  // Common name of the subject / issuer; empty when there is none.
  std::string subjectCommonName() const;
  std::string issuerCommonName() const;
  // The whole name as RFC 2253 text ("CN=meshgate-ca,O=meshgate"), for messages.
  std::string subjectName() const;
  std::string issuerName() const;
  // Every O= of the subject, in order.
  std::vector<std::string> organizations() const;

  // Upper-case hex without separators, as `openssl x509 -serial` prints it.
  std::string serialHex() const;

  // Whole seconds, UTC.
  TimePoint notBefore() const { return notBefore_; }
  TimePoint notAfter() const { return notAfter_; }

  // Subject alternative names, in certificate order. IP addresses in canonical text form.
  std::vector<std::string> dnsNames() const;
  std::vector<std::string> uris() const;
  std::vector<std::string> ipAddresses() const;

  // basicConstraints CA:TRUE.
  bool isCa() const;
  // Issuer name equals subject name and the signature verifies with its own key.
  bool isSelfSigned() const;
  // The certificate's public key is the public half of `key`.
  bool matchesKey(const PrivateKey& key) const;
  // `issuer`'s subject is this certificate's issuer and its key verifies this signature.
  bool isSignedBy(const Certificate& issuer) const;

  // "-----BEGIN CERTIFICATE-----…", newline-terminated.
  std::string toPem() const;
  const std::string& der() const { return der_; }
  // SHA-256 of the DER, lower-case hex without separators (64 characters): usable in labels and
  // annotations, unlike the colon form.
  std::string sha256Fingerprint() const;

  // Borrowed; valid while this Certificate (or a copy) lives.
  X509* get() const { return x509_.get(); }

  // Same DER encoding.
  friend bool operator==(const Certificate& a, const Certificate& b) { return a.der_ == b.der_; }

 private:
  Certificate() = default;

  std::shared_ptr<X509> x509_;
  std::string der_;
  TimePoint notBefore_{};
  TimePoint notAfter_{};
};

// Every certificate in a PEM bundle, in order. Text between blocks is ignored; no certificate at
// all, or a block that does not decode, is an error.
Result<std::vector<Certificate>> parseCertificates(std::string_view pem);

}  // namespace pki
