// Issue-or-keep decisions for certificate Secrets.
#include "operator/mesh_certificate_issuer.h"

#include "base/base64.h"
#include "kube/wire_time.h"
#include "operator/desired_state.h"
#include "operator/owner_reference.h"
#include "operator/secret_data.h"
#include "pki/certificate.h"
#include "pki/private_key.h"
#include "pki/renewal_policy.h"

namespace meshgate::op {

namespace {

// How long our own write is trusted over an informer cache that has not caught up with it.
constexpr auto kCacheLagAllowance = std::chrono::seconds(30);

}  // namespace

MeshCertificateIssuer::MeshCertificateIssuer(kube::RestClient& client,
                                             const kube::ThreadSafeStore& secrets, MeshCa& ca,
                                             kube::Clock& clock)
    : client_(client), secrets_(secrets), ca_(ca), clock_(clock) {}

Expected<IssuedCertificate, std::string> MeshCertificateIssuer::ensure(
    const CertificateRequest& request) {
  auto ca = ca_.current();
  if (!ca) return std::string("the mesh CA is not loaded yet");
  const auto now = clock_.wallNow();
  const std::string key = request.ns + "/" + request.secretName;
  auto wanted = request.uris.empty()
                    ? pki::CertificateTemplate::forHosts(request.dnsNames, request.lifetime)
                    : pki::CertificateTemplate::forWorkload(request.uris.front(), request.lifetime);

  // What the Secret holds now: the cache, unless our own newer write has not reached it yet.
  nlohmann::json live;
  if (auto cached = secrets_.get(key)) live = *cached;
  {
    std::lock_guard lock(mutex_);
    auto recent = recent_.find(key);
    if (recent != recent_.end()) {
      const bool cacheCaughtUp =
          !live.is_null() &&
          secretData(live, "tls.crt") == secretData(recent->second.secret, "tls.crt");
      if (cacheCaughtUp || clock_.now() - recent->second.at > kCacheLagAllowance) {
        recent_.erase(recent);
      } else {
        live = recent->second.secret;
      }
    }
  }

  std::string certPem = live.is_null() ? "" : secretData(live, "tls.crt");
  std::string keyPem = live.is_null() ? "" : secretData(live, "tls.key");
  std::string reason = live.is_null() ? "the Secret does not exist"
                       : certPem.empty() || keyPem.empty()
                           ? "the Secret holds no certificate"
                           : pki::needsReissue(certPem, keyPem, ca->authority, wanted, now);
  if (!reason.empty()) {
    auto subjectKey = pki::PrivateKey::generateEcdsaP256();
    if (!subjectKey) return "generating a key: " + subjectKey.error().message;
    auto certificate = ca->authority.issue(wanted, *subjectKey, now);
    if (!certificate) return "issuing a certificate: " + certificate.error().message;
    auto pem = subjectKey->toPem();
    if (!pem) return "encoding the key: " + pem.error().message;
    certPem = certificate->toPem();
    keyPem = std::move(*pem);
    issued_++;
  }

  nlohmann::json desired = {{"apiVersion", "v1"},
                            {"kind", "Secret"},
                            {"metadata",
                             {{"name", request.secretName},
                              {"namespace", request.ns},
                              {"labels", {{kManagedByLabel, kManagedByValue}}},
                              {"ownerReferences", request.ownerReferences}}},
                            {"type", "kubernetes.io/tls"},
                            {"data",
                             {{"tls.crt", base64Encode(certPem)},
                              {"tls.key", base64Encode(keyPem)},
                              {"ca.crt", base64Encode(ca->trustBundlePem)}}}};
  stampAppliedHash(desired);

  auto issued = pki::Certificate::fromPem(certPem);
  if (!issued) return "reading back the certificate: " + issued.error().message;
  IssuedCertificate result{.secretName = request.secretName,
                           .notAfter = kube::formatTime(issued->notAfter()),
                           .renewAt = pki::renewAt(*issued),
                           .written = false,
                           .reason = reason};
  if (!needsApply(desired, live.is_null() ? nullptr : &live)) return result;

  auto applied = client_.apply(kube::resources::kSecrets, desired, kFieldManager);
  if (!applied) return "writing Secret " + key + ": " + applied.error().toString();
  {
    std::lock_guard lock(mutex_);
    recent_[key] = {std::move(applied).value(), clock_.now()};
  }
  result.written = true;
  if (result.reason.empty()) result.reason = "trust bundle or owners changed";
  return result;
}

std::optional<std::chrono::system_clock::time_point> MeshCertificateIssuer::earliestExpiry() const {
  std::optional<std::chrono::system_clock::time_point> earliest;
  for (const auto& secret : secrets_.list()) {
    if (secret->value("type", "") != "kubernetes.io/tls") continue;
    auto certificate = pki::Certificate::fromPem(secretData(*secret, "tls.crt"));
    if (!certificate) continue;
    if (!earliest || certificate->notAfter() < *earliest) earliest = certificate->notAfter();
  }
  return earliest;
}

}  // namespace meshgate::op
