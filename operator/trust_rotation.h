// CA rotation with an overlapping trust bundle. When the CA Secret <system>/meshgate-ca is
// replaced, the new CA signs from then on, every leaf is re-issued (pki's renewal policy sees the
// CA change), and the trust bundle — the ConfigMap meshgate-ca-bundle, every Secret's ca.crt and
// the webhooks' caBundle — keeps each earlier root for as long as a live leaf is still signed by
// it, and for a grace period after that (pods get their updated Secret volumes one by one, minutes
// apart), then drops it. So a peer holding an old leaf and a peer holding a new one trust each
// other throughout. When each root was first seen retired (signing no leaf) is kept on the bundle
// ConfigMap, so that an operator restart or a new leader does not restart the grace: annotation
// meshgate.io/retired-roots = JSON {"<root's SHA-256 fingerprint, lower-case hex>": "<RFC 3339
// UTC time, to the microsecond>"}. The reconcile is keyed on the CA Secret, runs again whenever a
// managed certificate Secret changes, and comes back by itself when the grace of a retired root
// ends.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kube/clock.h"
#include "kube/informer.h"
#include "kube/reconciler.h"
#include "kube/rest_client.h"
#include "operator/mesh_ca.h"
#include "pki/certificate.h"

namespace meshgate::op {

// When each retired root was first seen signing no leaf, by SHA-256 fingerprint
// (pki::Certificate::sha256Fingerprint).
using RetiredRoots = std::map<std::string, std::chrono::system_clock::time_point>;

struct RootRetirement {
  RetiredRoots retiredSince;  // as recorded so far
  std::chrono::system_clock::time_point now;
  std::chrono::milliseconds grace;  // how long a retired root stays trusted; 0: not at all
};

struct TrustedRoots {
  std::vector<pki::Certificate> roots;  // `signing` first
  RetiredRoots retiredSince;            // the retired roots still in `roots`
  // Until the first of the retired roots in `roots` is due to leave; nullopt when there is none.
  std::optional<std::chrono::system_clock::duration> nextDropIn;
};

// The roots to trust: `signing`, each of `previous` that still signs at least one of `leaves`,
// and each other one of `previous` (retired) until `grace` has passed since it was first seen
// retired — `retiredSince` says when, else it is `now`; a time after `now` counts as `now`. A
// root that signs a leaf again is no longer retired. Pure.
TrustedRoots rootsToTrust(const pki::Certificate& signing,
                          const std::vector<pki::Certificate>& previous,
                          const std::vector<pki::Certificate>& leaves,
                          const RootRetirement& retirement);

struct TrustCaches {
  kube::Informer& caSecret;        // Secrets of the system namespace named meshgate-ca
  kube::Informer& trustBundle;     // ConfigMaps of the system namespace named meshgate-ca-bundle
  kube::Informer& managedSecrets;  // every Secret labelled managed-by=meshgate (the leaves)
};

class TrustRotationReconciler : public kube::Reconciler {
 public:
  // `onTrustChanged` runs after the signing CA or the bundle changed: it re-queues everything
  // that holds a certificate. A root that signs no leaf any more stays trusted for `grace`.
  TrustRotationReconciler(kube::RestClient& client, TrustCaches caches, MeshCa& ca,
                          kube::Clock& clock, std::string systemNamespace,
                          std::chrono::milliseconds grace, std::function<void()> onTrustChanged);

  kube::Request request() const;

  // kube::Reconciler
  kube::ReconcileResult reconcile(const kube::Request& request) override;

 private:
  // Logs each root of `previous` this reconcile retired or dropped.
  void logRetirements(const std::vector<pki::Certificate>& previous, const RetiredRoots& wasRetired,
                      const TrustedRoots& trusted) const;

  kube::RestClient& client_;
  TrustCaches caches_;
  MeshCa& ca_;
  kube::Clock& clock_;
  std::string systemNamespace_;
  std::chrono::milliseconds grace_;
  std::function<void()> onTrustChanged_;
};

}  // namespace meshgate::op
