// Which roots the mesh trusts, and moving the signing CA when its Secret changes.
#include "operator/trust_rotation.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "api/duration.h"
#include "kube/wire_time.h"
#include "operator/cluster_bootstrap.h"
#include "operator/desired_state.h"
#include "operator/owner_reference.h"
#include "operator/secret_data.h"
#include "pki/certificate_authority.h"
#include "pki/trust_bundle.h"

namespace meshgate::op {

namespace {

// The retired-since times the bundle ConfigMap carries; entries that do not read are left out
// (their roots count as retired from now on).
RetiredRoots readRetiredRoots(const nlohmann::json* bundle) {
  RetiredRoots retired;
  if (bundle == nullptr) return retired;
  const nlohmann::json annotations = bundle->value("metadata", nlohmann::json::object())
                                         .value("annotations", nlohmann::json::object());
  const auto text = annotations.find(kRetiredRootsAnnotation);
  if (text == annotations.end() || !text->is_string()) return retired;
  const auto times = nlohmann::json::parse(text->get<std::string>(), nullptr, false);
  if (!times.is_object()) return retired;
  for (const auto& [fingerprint, since] : times.items()) {
    if (!since.is_string()) continue;
    if (auto parsed = kube::parseTime(since.get<std::string>())) retired[fingerprint] = *parsed;
  }
  return retired;
}

// The bundle ConfigMap's annotations for `retired`: none when no root is retired.
std::map<std::string, std::string> retiredRootsAnnotations(const RetiredRoots& retired) {
  if (retired.empty()) return {};
  nlohmann::json times = nlohmann::json::object();
  for (const auto& [fingerprint, since] : retired)
    times[fingerprint] = kube::formatMicroTime(since);  // to the microsecond: grace stays exact
  return {{kRetiredRootsAnnotation, times.dump()}};
}

// For logs: enough of a fingerprint to tell roots apart.
std::string shortFingerprint(const pki::Certificate& root) {
  return root.sha256Fingerprint().substr(0, 16);
}

}  // namespace

TrustedRoots rootsToTrust(const pki::Certificate& signing,
                          const std::vector<pki::Certificate>& previous,
                          const std::vector<pki::Certificate>& leaves,
                          const RootRetirement& retirement) {
  TrustedRoots trusted{.roots = {signing}, .retiredSince = {}, .nextDropIn = std::nullopt};
  for (const auto& root : previous) {
    if (std::find(trusted.roots.begin(), trusted.roots.end(), root) != trusted.roots.end())
      continue;
    const bool stillSigns = std::any_of(leaves.begin(), leaves.end(),
                                        [&](const auto& leaf) { return leaf.isSignedBy(root); });
    if (stillSigns) {
      trusted.roots.push_back(root);
      continue;
    }
    const std::string fingerprint = root.sha256Fingerprint();
    auto since = retirement.now;
    if (auto recorded = retirement.retiredSince.find(fingerprint);
        recorded != retirement.retiredSince.end())
      since = std::min(recorded->second, retirement.now);
    const auto left = since + retirement.grace - retirement.now;
    if (left <= std::chrono::system_clock::duration::zero()) continue;
    trusted.roots.push_back(root);
    trusted.retiredSince[fingerprint] = since;
    if (!trusted.nextDropIn || left < *trusted.nextDropIn) trusted.nextDropIn = left;
  }
  return trusted;
}

TrustRotationReconciler::TrustRotationReconciler(kube::RestClient& client, TrustCaches caches,
                                                 MeshCa& ca, kube::Clock& clock,
                                                 std::string systemNamespace,
                                                 std::chrono::milliseconds grace,
                                                 std::function<void()> onTrustChanged)
    : client_(client),
      caches_(caches),
      ca_(ca),
      clock_(clock),
      systemNamespace_(std::move(systemNamespace)),
      grace_(grace),
      onTrustChanged_(std::move(onTrustChanged)) {}

kube::Request TrustRotationReconciler::request() const {
  return {systemNamespace_, kCaSecretName};
}

void TrustRotationReconciler::logRetirements(const std::vector<pki::Certificate>& previous,
                                             const RetiredRoots& wasRetired,
                                             const TrustedRoots& trusted) const {
  std::vector<std::string> seen;
  for (const auto& root : previous) {
    const std::string fingerprint = root.sha256Fingerprint();
    if (std::find(seen.begin(), seen.end(), fingerprint) != seen.end()) continue;
    seen.push_back(fingerprint);
    const bool kept =
        std::find(trusted.roots.begin(), trusted.roots.end(), root) != trusted.roots.end();
    if (!kept) {
      spdlog::info("trust: dropped retired root {} from the bundle", shortFingerprint(root));
    } else if (trusted.retiredSince.contains(fingerprint) && !wasRetired.contains(fingerprint)) {
      spdlog::info("trust: root {} signs no leaf any more, kept for {}", shortFingerprint(root),
                   api::Duration(grace_).format());
    }
  }
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
  const auto live = caches_.trustBundle.store().get(bundleKey);
  if (live) {
    const std::string pem = (*live).value("data", nlohmann::json::object()).value("ca.crt", "");
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
  const RetiredRoots wasRetired = readRetiredRoots(live ? live.get() : nullptr);
  const auto trusted = rootsToTrust(authority->certificate(), previous, leaves,
                                    {.retiredSince = wasRetired, .now = now, .grace = grace_});
  const auto& roots = trusted.roots;
  auto bundlePem = pki::buildTrustBundle(roots, now);
  if (!bundlePem) return kube::ReconcileResult::retry("trust bundle: " + bundlePem.error().message);

  const bool caChanged =
      !current || !(current->authority.certificate() == authority->certificate());
  const bool bundleChanged = !current || current->trustBundlePem != *bundlePem;
  if (caChanged || bundleChanged) {
    spdlog::info("trust: signing CA {}{}, bundle of {} root(s)",
                 shortFingerprint(authority->certificate()), caChanged ? " (rotated)" : "",
                 roots.size());
    ca_.set({std::move(authority).value(), *bundlePem});
  }

  const nlohmann::json desired = trustBundleConfigMap(
      systemNamespace_, *bundlePem, retiredRootsAnnotations(trusted.retiredSince));
  if (needsApply(desired, live ? live.get() : nullptr)) {
    auto applied = client_.apply(kube::resources::kConfigMaps, desired, kFieldManager);
    if (!applied)
      return kube::ReconcileResult::retry("writing the trust bundle: " +
                                          applied.error().toString());
  }
  logRetirements(previous, wasRetired, trusted);
  if (caChanged || bundleChanged) onTrustChanged_();
  if (trusted.nextDropIn)
    return kube::ReconcileResult::requeueAfter(
        std::chrono::ceil<std::chrono::milliseconds>(*trusted.nextDropIn));
  return kube::ReconcileResult::done();
}

}  // namespace meshgate::op
