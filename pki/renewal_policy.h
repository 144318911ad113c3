// When the operator must replace a certificate it issued: on each reconcile of a MeshService
// (identity Secret) or ApiRoute (host Secret) it asks needsReissue() about the Secret's current
// certificate and key. A non-empty reason goes into the Event for the reissue; otherwise the
// operator requeues for renewAt(). Certificates are renewed at 2/3 of their lifetime, leaving a
// third of it to retry through an outage of the operator.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "pki/certificate.h"
#include "pki/certificate_authority.h"
#include "pki/certificate_template.h"
#include "pki/private_key.h"

namespace pki {

// notBefore + 2/3 × (notAfter − notBefore).
std::chrono::system_clock::time_point renewAt(const Certificate& cert);

/**
 * Why `existing` (with `key`) must be reissued by `ca` for `wanted` at `now`, or empty when it may
 * stay until renewAt(existing). Checked, first reason wins: expired; not yet valid; key does not
 * match; issued by another CA (issuer name differs); CA changed (same name, but the current CA
 * key does not verify the signature — the CA was rotated); common name or SAN sets (DNS names
 * case-insensitively, URIs, IP addresses canonically) differ from `wanted`; renewal time reached.
 */
std::string needsReissue(const Certificate& existing, const PrivateKey& key,
                         const CertificateAuthority& ca, const CertificateTemplate& wanted,
                         std::chrono::system_clock::time_point now);

// The same for the raw `tls.crt` / `tls.key` of a Secret, whose first certificate is the leaf
// (any after it are chain). Content that does not parse is itself a reason to reissue.
std::string needsReissue(std::string_view certPem, std::string_view keyPem,
                         const CertificateAuthority& ca, const CertificateTemplate& wanted,
                         std::chrono::system_clock::time_point now);

}  // namespace pki
