// Which roots the mesh trusts, and moving the signing CA when its Secret changes.
#include "operator/trust_rotation.h"

#include <spdlog/spdlog.h>

#include "operator/cluster_bootstrap.h"
#include "operator/desired_state.h"
#include "operator/owner_reference.h"
#include "operator/secret_data.h"
#include "pki/certificate_authority.h"
#include "pki/trust_bundle.h"

namespace meshgate::op {

std::vector<pki::Certificate> rootsToTrust(const pki::Certificate& signing,
                                           const std::vector<pki::Certificate>& previous,
                                           const std::vector<pki::Certificate>& leaves) {
  std::vector<pki::Certificate> roots = {signing};
  for (const auto& root : previous) {
    if (root == signing) continue;
    if (std::find(roots.begin(), roots.end(), root) != roots.end()) continue;
    const bool stillSigns = std::any_of(leaves.begin(), leaves.end(),
                                        [&](const auto& leaf) { return leaf.isSignedBy(root); });
    if (stillSigns) roots.push_back(root);
  }
  return roots;
}

TrustRotationReconciler::TrustRotationReconciler(kube::RestClient& client, TrustCaches caches,
                                                 MeshCa& ca, kube::Clock& clock,
                                                 std::string systemNamespace,
                                                 std::function<void()> onTrustChanged)
    : client_(client),
      caches_(caches),
      ca_(ca),
      clock_(clock),
      systemNamespace_(std::move(systemNamespace)),
      onTrustChanged_(std::move(onTrustChanged)) {}

kube::Request TrustRotationReconciler::request() const {
  return {systemNamespace_, kCaSecretName};
}

kube::ReconcileResult TrustRotationReconciler::reconcile(const kube::Request&) {
  const auto now = clock_.wallNow();
  const std::string caKey = systemNamespace_ + "/" + kCaSecretName;
  const auto caSecret = caches_.caSecret.store().get(caKey);
  if (!caSecret) return kube::ReconcileResult::retry("Secret " + caKey + " does not exist");
  auto authority = pki::CertificateAuthority::load(secretData(*caSecret, "tls.crt"),
                                                   secretData(*caSecret, "tls.key"), now);
  if (!authority) {
    // A broken replacement is refused; the CA that signs now keeps signing.
    return kube::ReconcileResult::terminal("Secret " + caKey + ": " + authority.error().message);
  }

  // Every root trusted so far: the published bundle and the CA that signed until now.
  std::vector<pki::Certificate> previous;
  const std::string bundleKey = systemNamespace_ + "/" + kTrustBundleConfigMap;
  if (auto bundle = caches_.trustBundle.store().get(bundleKey)) {
    const std::string pem = (*bundle).value("data", nlohmann::json::object()).value("ca.crt", "");
    if (auto parsed = pki::parseCertificates(pem)) previous = std::move(parsed).value();
  }
  const auto current = ca_.current();
  if (current) previous.push_back(current->authority.certificate());

  // Leaves matter only while an earlier root is still in the bundle (a rotation under way).
  const bool rotating = std::any_of(previous.begin(), previous.end(), [&](const auto& root) {
    return !(root == authority->certificate());
  });
  std::vector<pki::Certificate> leaves;
  for (const auto& secret :
       rotating ? caches_.managedSecrets.store().list() : std::vector<kube::ObjectSharedPtr>{}) {
    if (kube::keyOf(*secret) == caKey) continue;
    auto leaf = pki::Certificate::fromPem(secretData(*secret, "tls.crt"));
    if (leaf && !leaf->isCa()) leaves.push_back(std::move(leaf).value());
  }
  const auto roots = rootsToTrust(authority->certificate(), previous, leaves);
  auto bundlePem = pki::buildTrustBundle(roots, now);
  if (!bundlePem) return kube::ReconcileResult::retry("trust bundle: " + bundlePem.error().message);

  const bool caChanged =
      !current || !(current->authority.certificate() == authority->certificate());
  const bool bundleChanged = !current || current->trustBundlePem != *bundlePem;
  if (caChanged || bundleChanged) {
    spdlog::info("trust: signing CA {}{}, bundle of {} root(s)",
                 authority->certificate().sha256Fingerprint().substr(0, 16),
                 caChanged ? " (rotated)" : "", roots.size());
    ca_.set({std::move(authority).value(), *bundlePem});
  }

  const nlohmann::json desired = trustBundleConfigMap(systemNamespace_, *bundlePem);
  const auto live = caches_.trustBundle.store().get(bundleKey);
  if (needsApply(desired, live ? live.get() : nullptr)) {
    auto applied = client_.apply(kube::resources::kConfigMaps, desired, kFieldManager);
    if (!applied)
      return kube::ReconcileResult::retry("writing the trust bundle: " +
                                          applied.error().toString());
  }
  if (caChanged || bundleChanged) onTrustChanged_();
  return kube::ReconcileResult::done();
}

}  // namespace meshgate::op
