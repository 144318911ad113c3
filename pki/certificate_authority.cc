#include "pki/certificate_authority.h"

#include <algorithm>

#include <openssl/x509v3.h>

#include "pki/asn1_time.h"
#include "pki/certificate_builder.h"

namespace pki {
namespace {

// X.509 stores whole seconds; working in them keeps "notAfter == CA notAfter" exact.
TimePoint wholeSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

std::string describe(const Certificate& cert) {
  const std::string cn = cert.subjectCommonName();
  return cn.empty() ? "\"" + cert.subjectName() + "\"" : "\"" + cn + "\"";
}

}  // namespace

Result<CertificateAuthority> CertificateAuthority::generate(std::string_view commonName,
                                                            TimePoint now) {
  return generate(commonName, kDefaultLifetime, now);
}

Result<CertificateAuthority> CertificateAuthority::generate(std::string_view commonName,
                                                            std::chrono::seconds lifetime,
                                                            TimePoint now) {
  if (commonName.empty()) return Error{"CA commonName must not be empty"};
  auto key = PrivateKey::generateEcdsaP256();
  if (!key) return key.error();
  CertificateTemplate t;
  t.commonName = std::string(commonName);
  t.lifetime = lifetime;
  t.isCa = true;
  if (auto valid = validateTemplate(t); !valid) return valid.error();
  const Validity validity{wholeSeconds(now) - t.backdate, wholeSeconds(now) + t.lifetime};
  auto cert = buildCertificate(t, *key, validity, nullptr, *key);
  if (!cert) return Error{"generating the CA certificate: " + cert.error().message};
  return CertificateAuthority(std::move(*cert), std::move(*key));
}

Result<CertificateAuthority> CertificateAuthority::load(std::string_view certPem,
                                                        std::string_view keyPem, TimePoint now) {
  auto certs = parseCertificates(certPem);
  if (!certs) return Error{"CA certificate: " + certs.error().message};
  if (certs->size() != 1) {
    return Error{"CA certificate: PEM holds " + std::to_string(certs->size()) +
                 " certificates; exactly one (the root CA) is supported"};
  }
  Certificate cert = std::move(certs->front());
  if (!cert.isCa()) {
    return Error{"CA certificate " + describe(cert) +
                 " is not a CA (basicConstraints CA:TRUE is missing)"};
  }
  if ((X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN) == 0) {
    return Error{"CA certificate " + describe(cert) +
                 " may not sign certificates (keyUsage lacks keyCertSign)"};
  }
  if (!cert.isSelfSigned()) {
    return Error{"CA certificate " + describe(cert) + " is not self-signed (issued by \"" +
                 cert.issuerName() + "\"); only root CAs are supported"};
  }
  if (now >= cert.notAfter()) {
    return Error{"CA certificate " + describe(cert) + " expired at " + formatTime(cert.notAfter())};
  }
  if (now < cert.notBefore()) {
    return Error{"CA certificate " + describe(cert) + " is not valid until " +
                 formatTime(cert.notBefore())};
  }
  auto key = PrivateKey::fromPem(keyPem);
  if (!key) return Error{"CA private key: " + key.error().message};
  if (!cert.matchesKey(*key)) {
    return Error{"CA private key (" + key->description() + ") does not match CA certificate " +
                 describe(cert)};
  }
  return CertificateAuthority(std::move(cert), std::move(*key));
}

Result<Certificate> CertificateAuthority::issue(const CertificateTemplate& t,
                                                const PrivateKey& subjectKey, TimePoint now) const {
  if (auto valid = validateTemplate(t); !valid) return valid.error();
  if (now >= certificate_.notAfter()) {
    return Error{"CA certificate " + describe(certificate_) + " expired at " +
                 formatTime(certificate_.notAfter()) + "; rotate the CA"};
  }
  if (now < certificate_.notBefore()) {
    return Error{"CA certificate " + describe(certificate_) + " is not valid until " +
                 formatTime(certificate_.notBefore())};
  }
  // A certificate outliving its CA would only fail later, at a worse time; starting before the
  // CA is harmless to verifiers but would misstate the history.
  const Validity validity{
      std::max(wholeSeconds(now) - t.backdate, certificate_.notBefore()),
      std::min(wholeSeconds(now) + t.lifetime, certificate_.notAfter()),
  };
  return buildCertificate(t, subjectKey, validity, &certificate_, key_);
}

}  // namespace pki
