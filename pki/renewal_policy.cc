#include "pki/renewal_policy.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "pki/asn1_time.h"
#include "pki/ip_address.h"

namespace pki {
namespace {

using Names = std::set<std::string>;

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Names dnsSet(const std::vector<std::string>& names) {
  Names set;
  for (const auto& n : names)
    set.insert(lowercase(n));
  return set;
}

Names uriSet(const std::vector<std::string>& uris) {
  return Names(uris.begin(), uris.end());
}

Names ipSet(const std::vector<std::string>& addresses) {
  Names set;
  for (const auto& a : addresses)
    set.insert(canonicalIpAddress(a).value_or(a));
  return set;
}

std::string listed(const Names& names) {
  std::string out = "[";
  for (const auto& n : names) {
    if (out.size() > 1) out += ", ";
    out += n;
  }
  return out + "]";
}

std::string differs(std::string_view what, const Names& have, const Names& want) {
  if (have == want) return {};
  return std::string(what) + " changed: have " + listed(have) + ", want " + listed(want);
}

}  // namespace

std::chrono::system_clock::time_point renewAt(const Certificate& cert) {
  return cert.notBefore() + (cert.notAfter() - cert.notBefore()) * 2 / 3;
}

std::string needsReissue(const Certificate& existing, const PrivateKey& key,
                         const CertificateAuthority& ca, const CertificateTemplate& wanted,
                         std::chrono::system_clock::time_point now) {
  if (now >= existing.notAfter()) {
    return "certificate expired at " + formatTime(existing.notAfter());
  }
  // Only after the operator's clock went backwards; peers would reject it as well.
  if (now < existing.notBefore()) {
    return "certificate is not valid until " + formatTime(existing.notBefore());
  }
  if (!existing.matchesKey(key)) return "private key does not match the certificate";
  const Certificate& caCert = ca.certificate();
  if (existing.issuerName() != caCert.subjectName()) {
    return "issued by another CA (\"" + existing.issuerName() + "\", current CA \"" +
           caCert.subjectName() + "\")";
  }
  if (!existing.isSignedBy(caCert)) {
    return "CA changed: the current CA key (sha256 " + caCert.sha256Fingerprint() +
           ") did not sign the certificate";
  }
  if (existing.subjectCommonName() != wanted.commonName) {
    return "common name changed: have \"" + existing.subjectCommonName() + "\", want \"" +
           wanted.commonName + "\"";
  }
  for (auto reason : {
           differs("DNS names", dnsSet(existing.dnsNames()), dnsSet(wanted.dnsNames)),
           differs("URI SANs", uriSet(existing.uris()), uriSet(wanted.uris)),
           differs("IP addresses", ipSet(existing.ipAddresses()), ipSet(wanted.ipAddresses)),
       }) {
    if (!reason.empty()) return reason;
  }
  if (now >= renewAt(existing)) {
    return "renewal time " + formatTime(renewAt(existing)) + " (2/3 of the lifetime) reached";
  }
  return {};
}

std::string needsReissue(std::string_view certPem, std::string_view keyPem,
                         const CertificateAuthority& ca, const CertificateTemplate& wanted,
                         std::chrono::system_clock::time_point now) {
  auto certs = parseCertificates(certPem);
  if (!certs) return "tls.crt: " + certs.error().message;
  auto key = PrivateKey::fromPem(keyPem);
  if (!key) return "tls.key: " + key.error().message;
  // The leaf comes first; anything after it is chain, which the CA checks below cover.
  return needsReissue(certs->front(), *key, ca, wanted, now);
}

}  // namespace pki
