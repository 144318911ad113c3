// Keeps the config stream's two certificates (docs/CONFIG_STREAM.md) in the system namespace,
// issued by the mesh CA and renewed at 2/3 of their lifetime:
//   meshgate-config-server-tls  the config server's serving certificate (DNS SANs of the Service
//                               meshgate-operator, `localhost`, and --config-server-dns-name),
//                               which every operator replica loads from its cache;
//   meshgate-gateway-identity   the client certificate of gateways (URI SAN
//                               spiffe://<trust-domain>/ns/<system-namespace>/sa/meshgate-gateway),
//                               mounted by an in-cluster gateway, copied by a local one.
// The leader runs it; one key for both.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "kube/clock.h"
#include "kube/reconciler.h"
#include "operator/certificate_issuer.h"

namespace meshgate::op {

inline constexpr const char* kConfigServerSecretName = "meshgate-config-server-tls";
inline constexpr const char* kGatewayIdentitySecretName = "meshgate-gateway-identity";
inline constexpr const char* kOperatorServiceName = "meshgate-operator";
inline constexpr const char* kGatewayServiceAccount = "meshgate-gateway";

struct ConfigServerCertificateOptions {
  std::string systemNamespace;
  std::string trustDomain;
  std::vector<std::string> extraDnsNames;  // --config-server-dns-name
  std::chrono::seconds lifetime{std::chrono::hours(24 * 30)};
};

// spiffe://<trust-domain>/ns/<system-namespace>/sa/meshgate-gateway
std::string gatewayIdentity(const std::string& trustDomain, const std::string& systemNamespace);

class ConfigServerCertificateReconciler : public kube::Reconciler {
 public:
  ConfigServerCertificateReconciler(CertificateIssuer& issuer, kube::Clock& clock,
                                    ConfigServerCertificateOptions options);

  kube::Request request() const { return {options_.systemNamespace, kConfigServerSecretName}; }

  // kube::Reconciler
  kube::ReconcileResult reconcile(const kube::Request& request) override;

 private:
  CertificateIssuer& issuer_;
  kube::Clock& clock_;
  ConfigServerCertificateOptions options_;
};

}  // namespace meshgate::op
