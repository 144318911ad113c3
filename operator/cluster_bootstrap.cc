// CA Secret, trust bundle and IngressClass at start-up.
#include "operator/cluster_bootstrap.h"

#include <spdlog/spdlog.h>

#include "base/base64.h"
#include "operator/desired_state.h"
#include "operator/owner_reference.h"
#include "pki/trust_bundle.h"

namespace meshgate::op {

ClusterBootstrap::ClusterBootstrap(kube::RestClient& client, std::string systemNamespace,
                                   MeshCa& ca, kube::Clock& clock)
    : client_(client), systemNamespace_(std::move(systemNamespace)), ca_(ca), clock_(clock) {}

nlohmann::json trustBundleConfigMap(const std::string& systemNamespace,
                                    const std::string& bundlePem,
                                    const std::map<std::string, std::string>& annotations) {
  nlohmann::json desired = {{"apiVersion", "v1"},
                            {"kind", "ConfigMap"},
                            {"metadata",
                             {{"name", kTrustBundleConfigMap},
                              {"namespace", systemNamespace},
                              {"labels", {{kManagedByLabel, kManagedByValue}}}}},
                            {"data", {{"ca.crt", bundlePem}}}};
  for (const auto& [name, value] : annotations)
    desired["metadata"]["annotations"][name] = value;
  stampAppliedHash(desired);
  return desired;
}

std::string ClusterBootstrap::run() {
  if (auto problem = ensureCa(); !problem.empty()) return problem;
  if (auto problem = ensureTrustBundle(); !problem.empty()) return problem;
  return ensureIngressClass();
}

std::string ClusterBootstrap::ensureCa() {
  const auto now = clock_.wallNow();
  auto secret = client_.get(kube::resources::kSecrets, systemNamespace_, kCaSecretName);
  if (!secret && !secret.error().isNotFound()) {
    return "reading Secret " + systemNamespace_ + "/" + kCaSecretName + ": " +
           secret.error().toString();
  }
  if (!secret) {
    auto generated = pki::CertificateAuthority::generate("meshgate-ca", now);
    if (!generated) return "generating the mesh CA: " + generated.error().message;
    auto keyPem = generated->keyPem();
    if (!keyPem) return "encoding the CA key: " + keyPem.error().message;
    nlohmann::json body = {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"metadata",
                            {{"name", kCaSecretName},
                             {"namespace", systemNamespace_},
                             {"labels", {{kManagedByLabel, kManagedByValue}}}}},
                           {"type", "kubernetes.io/tls"},
                           {"data",
                            {{"tls.crt", base64Encode(generated->certificatePem())},
                             {"tls.key", base64Encode(*keyPem)}}}};
    // Create, never apply: if another replica or a user got there first, theirs stands.
    auto created = client_.create(kube::resources::kSecrets, systemNamespace_, body);
    if (!created && !created.error().isAlreadyExists()) {
      return "creating the mesh CA Secret: " + created.error().toString();
    }
    if (created)
      spdlog::info("generated the mesh CA in Secret {}/{}", systemNamespace_, kCaSecretName);
    secret = client_.get(kube::resources::kSecrets, systemNamespace_, kCaSecretName);
    if (!secret) return "reading the mesh CA Secret: " + secret.error().toString();
  }
  const auto& data = (*secret).value("data", nlohmann::json::object());
  auto certPem = base64Decode(data.value("tls.crt", ""));
  auto keyPem = base64Decode(data.value("tls.key", ""));
  if (!certPem || !keyPem || certPem->empty() || keyPem->empty()) {
    return "Secret " + systemNamespace_ + "/" + kCaSecretName + " must hold tls.crt and tls.key";
  }
  auto authority = pki::CertificateAuthority::load(*certPem, *keyPem, now);
  if (!authority) {
    return "Secret " + systemNamespace_ + "/" + kCaSecretName + ": " + authority.error().message;
  }
  // Roots published before stay trusted (a rotation may be under way); the trust controller
  // (trust_rotation.h) drops each one once no leaf is signed by it.
  std::vector<pki::Certificate> roots = {authority->certificate()};
  auto published =
      client_.get(kube::resources::kConfigMaps, systemNamespace_, kTrustBundleConfigMap);
  if (!published && !published.error().isNotFound())
    return "reading the trust bundle: " + published.error().toString();
  if (published) {
    const auto pem = (*published).value("data", nlohmann::json::object()).value("ca.crt", "");
    if (auto parsed = pki::parseCertificates(pem)) {
      for (auto& root : *parsed) {
        if (root.isCa()) roots.push_back(std::move(root));
      }
    }
  }
  auto bundle = pki::buildTrustBundle(roots, now);
  if (!bundle) return "building the trust bundle: " + bundle.error().message;
  ca_.set({std::move(authority).value(), std::move(bundle).value()});
  return "";
}

std::string ClusterBootstrap::ensureTrustBundle() {
  auto ca = ca_.current();
  auto live = client_.get(kube::resources::kConfigMaps, systemNamespace_, kTrustBundleConfigMap);
  if (!live && !live.error().isNotFound())
    return "reading the trust bundle: " + live.error().toString();
  // The retired roots' times belong to the trust controller: applying without them would erase
  // them and restart their grace.
  std::map<std::string, std::string> annotations;
  if (live) {
    const nlohmann::json liveAnnotations = (*live)
                                               .value("metadata", nlohmann::json::object())
                                               .value("annotations", nlohmann::json::object());
    if (auto retired = liveAnnotations.find(kRetiredRootsAnnotation);
        retired != liveAnnotations.end() && retired->is_string())
      annotations[kRetiredRootsAnnotation] = retired->get<std::string>();
  }
  const nlohmann::json desired =
      trustBundleConfigMap(systemNamespace_, ca->trustBundlePem, annotations);
  if (!needsApply(desired, live ? &live.value() : nullptr)) return "";
  auto applied = client_.apply(kube::resources::kConfigMaps, desired, kFieldManager);
  return applied ? "" : "writing the trust bundle: " + applied.error().toString();
}

std::string ClusterBootstrap::ensureIngressClass() {
  nlohmann::json desired = {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "IngressClass"},
      {"metadata", {{"name", kIngressClassName}, {"labels", {{kManagedByLabel, kManagedByValue}}}}},
      {"spec", {{"controller", kIngressController}}}};
  stampAppliedHash(desired);
  auto live = client_.get(kube::resources::kIngressClasses, "", kIngressClassName);
  if (!live && !live.error().isNotFound())
    return "reading the IngressClass: " + live.error().toString();
  if (!needsApply(desired, live ? &live.value() : nullptr)) return "";
  auto applied = client_.apply(kube::resources::kIngressClasses, desired, kFieldManager);
  return applied ? "" : "writing the IngressClass: " + applied.error().toString();
}

}  // namespace meshgate::op
