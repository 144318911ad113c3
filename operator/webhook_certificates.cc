// The webhook's serving certificate and the caBundle of its configurations.
#include "operator/webhook_certificates.h"

#include <spdlog/spdlog.h>

#include "base/base64.h"
#include "operator/owner_reference.h"

namespace meshgate::op {

WebhookCertificateReconciler::WebhookCertificateReconciler(kube::RestClient& client,
                                                           WebhookCertificateCaches caches,
                                                           CertificateIssuer& issuer, MeshCa& ca,
                                                           kube::Clock& clock,
                                                           std::string systemNamespace)
    : client_(client),
      caches_(caches),
      issuer_(issuer),
      ca_(ca),
      clock_(clock),
      systemNamespace_(std::move(systemNamespace)) {}

std::string WebhookCertificateReconciler::injectCaBundle(const kube::GroupVersionResource& gvr,
                                                         const nlohmann::json& configuration,
                                                         const std::string& caBundle, bool& wrote) {
  nlohmann::json webhooks = nlohmann::json::array();
  bool differs = false;
  for (const auto& webhook : configuration.value("webhooks", nlohmann::json::array())) {
    if (!webhook.is_object() || !webhook.contains("name")) continue;
    const auto clientConfig = webhook.value("clientConfig", nlohmann::json::object());
    if (clientConfig.value("caBundle", "") != caBundle) differs = true;
    webhooks.push_back({{"name", webhook["name"]}, {"clientConfig", {{"caBundle", caBundle}}}});
  }
  if (!differs) return "";
  // webhooks is a list keyed by name: applying only caBundle leaves every other field to its owner.
  nlohmann::json body = {{"apiVersion", gvr.apiVersion()},
                         {"kind", gvr.kind},
                         {"metadata", {{"name", configuration["metadata"]["name"]}}},
                         {"webhooks", webhooks}};
  auto applied = client_.apply(gvr, body, kFieldManager);
  if (!applied) {
    return "setting the caBundle of " + gvr.kind + " " +
           configuration["metadata"].value("name", "") + ": " + applied.error().toString();
  }
  wrote = true;
  return "";
}

kube::ReconcileResult WebhookCertificateReconciler::reconcile(const kube::Request&) {
  auto ca = ca_.current();
  if (!ca) return kube::ReconcileResult::retry("the mesh CA is not loaded yet");

  CertificateRequest certificate;
  certificate.ns = systemNamespace_;
  certificate.secretName = kWebhookSecretName;
  certificate.dnsNames = {
      std::string(kWebhookServiceName) + "." + systemNamespace_ + ".svc",
      std::string(kWebhookServiceName) + "." + systemNamespace_ + ".svc.cluster.local"};
  certificate.lifetime = std::chrono::hours(24 * 90);
  auto issued = issuer_.ensure(certificate);
  if (!issued) return kube::ReconcileResult::retry("webhook certificate: " + issued.error());
  if (issued->written) {
    spdlog::info("webhook certificate: Secret {}/{} written ({})", systemNamespace_,
                 kWebhookSecretName, issued->reason);
  }

  const std::string caBundle = base64Encode(ca->trustBundlePem);
  std::string problem;
  for (auto [informer, gvr] : {std::pair{&caches_.mutatingConfigurations,
                                         &kube::resources::kMutatingWebhookConfigurations},
                               std::pair{&caches_.validatingConfigurations,
                                         &kube::resources::kValidatingWebhookConfigurations}}) {
    for (const auto& configuration : informer->store().list()) {
      bool wrote = false;
      if (auto failed = injectCaBundle(*gvr, *configuration, caBundle, wrote); !failed.empty()) {
        problem = failed;
      } else if (wrote) {
        spdlog::info("caBundle of {} {} set to the mesh trust bundle", gvr->kind,
                     (*configuration)["metadata"].value("name", ""));
      }
    }
  }
  if (!problem.empty()) return kube::ReconcileResult::retry(problem);
  return requeueAtRenewal(issued->renewAt, clock_.wallNow());
}

}  // namespace meshgate::op
