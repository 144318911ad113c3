// CA rotation with an overlapping trust bundle. When the CA Secret <system>/meshgate-ca is
// replaced, the new CA signs from then on, every leaf is re-issued (pki's renewal policy sees the
// CA change), and the trust bundle — the ConfigMap meshgate-ca-bundle, every Secret's ca.crt and
// the webhooks' caBundle — keeps each earlier root for as long as a live leaf is still signed by
// it, then drops it. So a peer holding an old leaf and a peer holding a new one trust each other
// throughout. The reconcile is keyed on the CA Secret and runs again whenever a managed
// certificate Secret changes.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "kube/clock.h"
#include "kube/informer.h"
#include "kube/reconciler.h"
#include "kube/rest_client.h"
#include "operator/mesh_ca.h"
#include "pki/certificate.h"

namespace meshgate::op {

// The roots to trust: `signing`, plus each of `previous` that is not `signing` and still signs
// at least one of `leaves`. Pure.
std::vector<pki::Certificate> rootsToTrust(const pki::Certificate& signing,
                                           const std::vector<pki::Certificate>& previous,
                                           const std::vector<pki::Certificate>& leaves);

struct TrustCaches {
  kube::Informer& caSecret;        // Secrets of the system namespace named meshgate-ca
  kube::Informer& trustBundle;     // ConfigMaps of the system namespace named meshgate-ca-bundle
  kube::Informer& managedSecrets;  // every Secret labelled managed-by=meshgate (the leaves)
};

class TrustRotationReconciler : public kube::Reconciler {
 public:
  // `onTrustChanged` runs after the signing CA or the bundle changed: it re-queues everything
  // that holds a certificate.
  TrustRotationReconciler(kube::RestClient& client, TrustCaches caches, MeshCa& ca,
                          kube::Clock& clock, std::string systemNamespace,
                          std::function<void()> onTrustChanged);

  kube::Request request() const;

  // kube::Reconciler
  kube::ReconcileResult reconcile(const kube::Request& request) override;

 private:
  kube::RestClient& client_;
  TrustCaches caches_;
  MeshCa& ca_;
  kube::Clock& clock_;
  std::string systemNamespace_;
  std::function<void()> onTrustChanged_;
};

}  // namespace meshgate::op
