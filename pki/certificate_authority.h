// CertificateAuthority is the mesh CA: the root certificate and key kept in the
// `meshgate-system/meshgate-ca` Secret. The operator generates one when the Secret is absent,
// loads the user's when present, and issues every workload (SPIFFE) and host certificate with it.
// Time is always passed in (`now`) so tests and the operator's injected clock control it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "pki/certificate.h"
#include "pki/certificate_template.h"
#include "pki/error.h"
#include "pki/private_key.h"

namespace pki {

/**
 * A root CA: a self-signed CA certificate and its private key. Immutable once built; issue() is
 * const and may be called from several threads at once.
 */
class CertificateAuthority {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  static constexpr std::chrono::seconds kDefaultLifetime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::years(10));

  /**
   * A new ECDSA P-256 root named `commonName`, valid from `now` minus 5 minutes (clock skew) to
   * `now + lifetime`: basicConstraints critical CA:TRUE, keyUsage critical keyCertSign+cRLSign,
   * subject and authority key identifiers.
   */
  static Result<CertificateAuthority> generate(std::string_view commonName, TimePoint now);
  static Result<CertificateAuthority> generate(std::string_view commonName,
                                               std::chrono::seconds lifetime, TimePoint now);

  /**
   * A user-supplied CA (`tls.crt`, `tls.key`). Refused, with a message saying why, when the PEM
   * does not decode, holds other than exactly one certificate, the certificate is not a CA
   * (basicConstraints CA:TRUE) or may not sign certificates (keyUsage without keyCertSign), is not
   * self-signed (intermediates are not supported: the trust bundle holds roots), is expired or
   * not yet valid at `now`, or the key is not the certificate's.
   */
  static Result<CertificateAuthority> load(std::string_view certPem, std::string_view keyPem,
                                           TimePoint now);

  /**
   * Signs a certificate for `subjectKey` as `t` describes: a random 128-bit serial, validity
   * [now - t.backdate, now + t.lifetime] cut to the CA's own validity, basicConstraints critical
   * CA:FALSE (unless t.isCa), keyUsage critical digitalSignature (keyCertSign+cRLSign for a CA),
   * extendedKeyUsage from t, SANs, subject and authority key identifiers. Fails when the template
   * is invalid or the CA is not valid at `now`.
   */
  Result<Certificate> issue(const CertificateTemplate& t, const PrivateKey& subjectKey,
                            TimePoint now) const;

  const Certificate& certificate() const { return certificate_; }
  // `tls.crt` / `ca.crt` content.
  std::string certificatePem() const { return certificate_.toPem(); }
  // `tls.key` content (PKCS#8). Handle as a secret.
  Result<std::string> keyPem() const { return key_.toPem(); }

 private:
  CertificateAuthority(Certificate certificate, PrivateKey key)
      : certificate_(std::move(certificate)), key_(std::move(key)) {}

  Certificate certificate_;
  PrivateKey key_;
};

}  // namespace pki
