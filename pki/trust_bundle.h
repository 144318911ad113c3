// Trust bundles: the `ca.crt` of every certificate Secret and the webhook's `caBundle`. During CA
// rotation the bundle holds the old and the new root so that certificates from either verify
// until every workload has been reissued. verifyChain() is the check a TLS peer would make,
// with the time injected; the operator and the tests use it to confirm what they hand out.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "pki/certificate.h"
#include "pki/error.h"

namespace pki {

/**
 * The PEM bundle of `roots`: duplicates (same SHA-256 fingerprint) collapse, roots expired at
 * `now` are dropped, and the rest are ordered newest first (notBefore descending, then
 * fingerprint), so the same set always yields byte-identical PEM and applying it again writes
 * nothing. Fails when a certificate is not a CA, or when no root is left.
 */
Result<std::string> buildTrustBundle(const std::vector<Certificate>& roots,
                                     std::chrono::system_clock::time_point now);

/**
 * Empty when `leaf` chains to one of the roots at `now` (any purpose); otherwise OpenSSL's reason
 * ("certificate has expired", "unable to get local issuer certificate", …) and where it failed.
 * The roots are the trust anchors; no intermediates are looked up.
 */
std::string verifyChain(const Certificate& leaf, const std::vector<Certificate>& roots,
                        std::chrono::system_clock::time_point now);
// The same with the roots given as a PEM bundle; a bundle that does not parse is a reason too.
std::string verifyChain(const Certificate& leaf, std::string_view bundlePem,
                        std::chrono::system_clock::time_point now);

}  // namespace pki
