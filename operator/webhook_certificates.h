// Keeps meshgate's admission webhook reachable over TLS: the serving certificate in the Secret
// `<system-namespace>/meshgate-webhook-tls` (DNS SANs of the Service meshgate-webhook, renewed at
// 2/3 of its lifetime) and the `caBundle` of every webhook in the Mutating/Validating webhook
// configurations labelled meshgate.io/inject-ca-bundle=true, set to the mesh trust bundle — so
// the apiserver trusts the webhook through a CA rotation and its certificate never expires on
// anyone. One key for everything; reads informer caches, writes by server-side apply only what
// differs.
#pragma once

#include <string>

#include "kube/informer.h"
#include "kube/reconciler.h"
#include "kube/rest_client.h"
#include "operator/certificate_issuer.h"
#include "operator/mesh_ca.h"

namespace meshgate::op {

inline constexpr const char* kWebhookSecretName = "meshgate-webhook-tls";
inline constexpr const char* kWebhookServiceName = "meshgate-webhook";
inline constexpr const char* kInjectCaBundleLabel = "meshgate.io/inject-ca-bundle";

struct WebhookCertificateCaches {
  kube::Informer& mutatingConfigurations;    // labelled kInjectCaBundleLabel=true
  kube::Informer& validatingConfigurations;  // labelled kInjectCaBundleLabel=true
};

class WebhookCertificateReconciler : public kube::Reconciler {
 public:
  WebhookCertificateReconciler(kube::RestClient& client, WebhookCertificateCaches caches,
                               CertificateIssuer& issuer, MeshCa& ca, kube::Clock& clock,
                               std::string systemNamespace);

  // The one key every watched change maps to.
  kube::Request request() const { return {systemNamespace_, kWebhookSecretName}; }

  // kube::Reconciler
  kube::ReconcileResult reconcile(const kube::Request& request) override;

 private:
  // "" when every webhook of `configuration` already carries `caBundle`, else the write's error.
  std::string injectCaBundle(const kube::GroupVersionResource& gvr,
                             const nlohmann::json& configuration, const std::string& caBundle,
                             bool& wrote);

  kube::RestClient& client_;
  WebhookCertificateCaches caches_;
  CertificateIssuer& issuer_;
  MeshCa& ca_;
  kube::Clock& clock_;
  std::string systemNamespace_;
};

}  // namespace meshgate::op
