// Assembles and signs an X.509 v3 certificate from a CertificateTemplate: the part of issuance
// shared by the self-signed root and the certificates it issues (serial, names, validity,
// extensions, signature). Called only by CertificateAuthority, which decides the validity window
// and who signs. Internal to pki/.
#pragma once

#include <chrono>

#include "pki/certificate.h"
#include "pki/certificate_template.h"
#include "pki/error.h"
#include "pki/private_key.h"

namespace pki {

struct Validity {
  std::chrono::system_clock::time_point notBefore;
  std::chrono::system_clock::time_point notAfter;
};

/**
 * Builds and signs a certificate for `subjectKey` as `t` describes, valid over `validity`.
 * `issuer` null means self-signed (issuer name = subject name, signed by `signingKey`, which must
 * then be `subjectKey`). The template is validated first.
 */
Result<Certificate> buildCertificate(const CertificateTemplate& t, const PrivateKey& subjectKey,
                                     const Validity& validity, const Certificate* issuer,
                                     const PrivateKey& signingKey);

}  // namespace pki
