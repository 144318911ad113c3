// MeshCertificateIssuer is the real CertificateIssuer: it keeps a `kubernetes.io/tls` Secret
// (tls.crt, tls.key, ca.crt) valid for the wanted names, signing with the mesh CA. It re-issues
// only when pki's renewal policy says so (2/3 of the lifetime, SAN/key/CA change), rewrites the
// Secret without a new key when only the trust bundle or the owners changed, and writes nothing
// when all is current. Reads Secrets from an informer cache; remembers its own recent writes so a
// cache that lags behind a write does not cause a second issue. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>

#include "kube/clock.h"
#include "kube/rest_client.h"
#include "kube/thread_safe_store.h"
#include "operator/certificate_issuer.h"
#include "operator/mesh_ca.h"

namespace meshgate::op {

class MeshCertificateIssuer : public CertificateIssuer {
 public:
  MeshCertificateIssuer(kube::RestClient& client, const kube::ThreadSafeStore& secrets, MeshCa& ca,
                        kube::Clock& clock);

  // CertificateIssuer
  Expected<IssuedCertificate, std::string> ensure(const CertificateRequest& request) override;

  // Certificates signed since start (for the meshgate_certificates_issued_total metric).
  uint64_t issuedTotal() const { return issued_.load(); }
  // The earliest notAfter among the certificate Secrets the operator manages (from the cache),
  // or nullopt when there are none.
  std::optional<std::chrono::system_clock::time_point> earliestExpiry() const;

 private:
  struct RecentWrite {
    nlohmann::json secret;
    kube::Clock::TimePoint at;
  };

  kube::RestClient& client_;
  const kube::ThreadSafeStore& secrets_;
  MeshCa& ca_;
  kube::Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, RecentWrite> recent_;  // by namespace/name
  std::atomic<uint64_t> issued_{0};
};

}  // namespace meshgate::op
