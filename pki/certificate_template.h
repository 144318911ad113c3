// CertificateTemplate says what CertificateAuthority::issue() should put in a certificate: the
// identity (common name, SANs), how long it lives and what it may be used for. The operator
// builds one per workload identity (a SPIFFE ID) and per ApiRoute host set; the renewal policy
// compares an existing certificate against the template it would issue today.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "pki/error.h"

namespace pki {

struct CertificateTemplate {
  // At most 64 characters (X.520). May be empty when the SANs carry the identity, as in SPIFFE.
  std::string commonName;
  std::vector<std::string> organizations;
  // Host names; a single leading "*." wildcard label is allowed.
  std::vector<std::string> dnsNames;
  // e.g. "spiffe://cluster.local/ns/shop/sa/orders". At most one spiffe:// URI (X509-SVID).
  std::vector<std::string> uris;
  // Textual IPv4/IPv6 addresses.
  std::vector<std::string> ipAddresses;

  // Counted from the issuing time; the CA may cut it short (never past its own notAfter).
  std::chrono::seconds lifetime = std::chrono::hours(24);
  // notBefore is set this far before the issuing time so that peers whose clocks run slightly
  // behind do not reject a certificate issued a moment ago.
  std::chrono::seconds backdate = std::chrono::minutes(5);

  bool isCa = false;
  // extendedKeyUsage; neither set means no extendedKeyUsage extension.
  bool serverAuth = false;
  bool clientAuth = false;

  // A workload identity (X509-SVID): the SPIFFE ID as the only URI SAN, no common name, usable
  // for both ends of mTLS. Short-lived by default.
  static CertificateTemplate forWorkload(std::string spiffeId,
                                         std::chrono::seconds lifetime = std::chrono::hours(24));

  // A serving certificate for host names and/or IP addresses (each entry goes to the matching
  // SAN list). The first DNS name becomes the common name when it fits in 64 characters.
  static CertificateTemplate forHosts(std::vector<std::string> hosts,
                                      std::chrono::seconds lifetime = std::chrono::days(90));
};

// Checks what issue() relies on: a lifetime in (0, 100 years], a backdate in [0, 1 day], at least
// one of common name / SAN, well-formed DNS names, URIs, SPIFFE IDs and IP addresses. The message
// names the field and the offending value.
Status validateTemplate(const CertificateTemplate& t);

}  // namespace pki
