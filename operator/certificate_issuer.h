// CertificateIssuer is the seam between controllers and the mesh CA: it makes sure a TLS Secret
// holds a valid certificate for the wanted names (issuing or re-issuing only when needed) and
// says when to look again. The real one (mesh_certificate_issuer.h) signs with the mesh CA via
// pki/; controller tests use a fake.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "kube/reconciler.h"

namespace meshgate::op {

struct CertificateRequest {
  std::string ns;
  std::string secretName;
  std::vector<std::string> dnsNames;
  std::vector<std::string> uris;  // SPIFFE IDs
  std::chrono::seconds lifetime{std::chrono::hours(24)};
  // ownerReferences for the Secret (all objects that use it).
  nlohmann::json ownerReferences = nlohmann::json::array();
};

struct IssuedCertificate {
  std::string secretName;
  std::string notAfter;  // RFC 3339
  std::chrono::system_clock::time_point renewAt;
  bool written = false;  // the Secret was created or re-issued by this call
  std::string reason;    // why it was (re)issued, for the Event
};

class CertificateIssuer {
 public:
  virtual ~CertificateIssuer() = default;
  // Called from controller workers; thread-safe.
  virtual Expected<IssuedCertificate, std::string> ensure(const CertificateRequest& request) = 0;
};

// Come back when a certificate is due for renewal (at least a second from now).
kube::ReconcileResult requeueAtRenewal(std::chrono::system_clock::time_point renewAt,
                                       std::chrono::system_clock::time_point now);

}  // namespace meshgate::op
