#include "pki/certificate_template.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "pki/ip_address.h"

namespace pki {
namespace {

constexpr std::size_t kMaxCommonName = 64;  // ub-common-name, RFC 5280 appendix A

bool isLdh(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
}

// RFC 1123 host name, with an optional leading "*." (RFC 6125 wildcard in the left-most label).
bool isValidDnsName(std::string_view name) {
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), isLdh)) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

// scheme ":" rest, with RFC 3986 scheme characters.
bool isValidUri(std::string_view uri) {
  const std::size_t colon = uri.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == uri.size()) return false;
  if (!std::isalpha(static_cast<unsigned char>(uri.front()))) return false;
  for (char c : uri.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  // Printable ASCII only: a SAN URI is an IA5String, and RFC 3986 percent-encodes the rest.
  return std::all_of(uri.begin(), uri.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

// SPIFFE ID standard §2: lower-case trust domain of [a-z0-9.-_], then a non-empty path of
// segments of [A-Za-z0-9.-_], none empty, "." or "..", no query or fragment.
bool isValidSpiffeId(std::string_view id) {
  constexpr std::string_view kScheme = "spiffe://";
  if (!id.starts_with(kScheme)) return false;
  id.remove_prefix(kScheme.size());
  const std::size_t slash = id.find('/');
  if (slash == 0 || slash == std::string_view::npos) return false;
  for (char c : id.substr(0, slash)) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) {
      return false;
    }
  }
  std::string_view path = id.substr(slash);
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    const std::size_t next = std::min(path.find('/'), path.size());
    const std::string_view segment = path.substr(0, next);
    if (segment.empty() || segment == "." || segment == "..") return false;
    for (char c : segment) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) {
        return false;
      }
    }
    path.remove_prefix(next);
  }
  return true;
}

Error invalid(std::string_view field, std::string_view value, std::string_view rule) {
  return Error{std::string(field) + " \"" + std::string(value) + "\" " + std::string(rule)};
}

}  // namespace

CertificateTemplate CertificateTemplate::forWorkload(std::string spiffeId,
                                                     std::chrono::seconds lifetime) {
  CertificateTemplate t;
  t.uris.push_back(std::move(spiffeId));
  t.lifetime = lifetime;
  t.serverAuth = true;
  t.clientAuth = true;
  return t;
}

CertificateTemplate CertificateTemplate::forHosts(std::vector<std::string> hosts,
                                                  std::chrono::seconds lifetime) {
  CertificateTemplate t;
  for (auto& host : hosts) {
    if (canonicalIpAddress(host)) {
      t.ipAddresses.push_back(std::move(host));
    } else {
      t.dnsNames.push_back(std::move(host));
    }
  }
  if (!t.dnsNames.empty() && t.dnsNames.front().size() <= kMaxCommonName) {
    t.commonName = t.dnsNames.front();
  }
  t.lifetime = lifetime;
  t.serverAuth = true;
  return t;
}

Status validateTemplate(const CertificateTemplate& t) {
  if (t.lifetime <= std::chrono::seconds::zero()) {
    return Error{"lifetime must be positive, got " + std::to_string(t.lifetime.count()) + "s"};
  }
  // Far beyond any sensible CA, and well inside what time arithmetic in nanoseconds can hold.
  if (t.lifetime > std::chrono::years(100)) {
    return Error{"lifetime must be at most 100 years, got " + std::to_string(t.lifetime.count()) +
                 "s"};
  }
  if (t.backdate < std::chrono::seconds::zero() || t.backdate > std::chrono::days(1)) {
    return Error{"backdate must be between 0 and 1 day, got " + std::to_string(t.backdate.count()) +
                 "s"};
  }
  if (t.commonName.empty() && t.dnsNames.empty() && t.uris.empty() && t.ipAddresses.empty()) {
    return Error{"certificate names nothing: set commonName or at least one SAN"};
  }
  if (t.commonName.size() > kMaxCommonName) {
    return Error{"commonName is " + std::to_string(t.commonName.size()) +
                 " characters; at most 64 are allowed"};
  }
  for (const auto& name : t.dnsNames) {
    if (!isValidDnsName(name)) {
      return invalid("dnsNames entry", name, "is not a valid DNS name (RFC 1123, optional \"*.\")");
    }
  }
  int spiffeIds = 0;
  for (const auto& uri : t.uris) {
    if (uri.starts_with("spiffe:")) {
      if (!isValidSpiffeId(uri)) {
        return invalid("uris entry", uri,
                       "is not a valid SPIFFE ID (spiffe://<trust-domain>/<path>, lower-case "
                       "trust domain)");
      }
      ++spiffeIds;
    } else if (!isValidUri(uri)) {
      return invalid("uris entry", uri, "is not a valid URI");
    }
  }
  if (spiffeIds > 1) {
    return Error{"uris holds " + std::to_string(spiffeIds) +
                 " SPIFFE IDs; an X509-SVID carries exactly one"};
  }
  for (const auto& ip : t.ipAddresses) {
    if (!canonicalIpAddress(ip)) return invalid("ipAddresses entry", ip, "is not an IP address");
  }
  return Ok{};
}

}  // namespace pki
