// The config stream's serving and gateway certificates; see config_server_certificates.h.
#include "operator/config_server_certificates.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "operator/mesh_service_children.h"

namespace meshgate::op {

std::string gatewayIdentity(const std::string& trustDomain, const std::string& systemNamespace) {
  return spiffeId(trustDomain, systemNamespace, kGatewayServiceAccount);
}

ConfigServerCertificateReconciler::ConfigServerCertificateReconciler(
    CertificateIssuer& issuer, kube::Clock& clock, ConfigServerCertificateOptions options)
    : issuer_(issuer), clock_(clock), options_(std::move(options)) {}

kube::ReconcileResult ConfigServerCertificateReconciler::reconcile(const kube::Request&) {
  const std::string& ns = options_.systemNamespace;
  CertificateRequest server;
  server.ns = ns;
  server.secretName = kConfigServerSecretName;
  server.dnsNames = {std::string(kOperatorServiceName) + "." + ns + ".svc",
                     std::string(kOperatorServiceName) + "." + ns + ".svc.cluster.local",
                     "localhost"};
  for (const auto& name : options_.extraDnsNames)
    if (std::find(server.dnsNames.begin(), server.dnsNames.end(), name) == server.dnsNames.end())
      server.dnsNames.push_back(name);
  server.lifetime = options_.lifetime;

  CertificateRequest gateway;
  gateway.ns = ns;
  gateway.secretName = kGatewayIdentitySecretName;
  gateway.uris = {gatewayIdentity(options_.trustDomain, ns)};
  gateway.lifetime = options_.lifetime;

  std::chrono::system_clock::time_point renewAt = std::chrono::system_clock::time_point::max();
  for (const auto* wanted : {&server, &gateway}) {
    auto issued = issuer_.ensure(*wanted);
    if (!issued) return kube::ReconcileResult::retry(wanted->secretName + ": " + issued.error());
    if (issued->written)
      spdlog::info("Secret {}/{} written ({})", ns, wanted->secretName, issued->reason);
    renewAt = std::min(renewAt, issued->renewAt);
  }
  return requeueAtRenewal(renewAt, clock_.wallNow());
}

}  // namespace meshgate::op
