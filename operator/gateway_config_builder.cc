// Informer caches → a gateway's ProxyConfig; see gateway_config_builder.h.
#include "operator/gateway_config_builder.h"

#include <algorithm>
#include <map>
#include <set>

#include "api/mesh_service_codec.h"
#include "api/schema_defaults.h"
#include "operator/api_route_reconciler.h"
#include "operator/auth_secrets.h"
#include "operator/mesh_service_cluster.h"
#include "operator/namespace_state.h"
#include "operator/secret_data.h"
#include "operator/served_route.h"

namespace meshgate::op {

std::string apiRouteObjectKey(const std::string& ns, const std::string& name) {
  return "ApiRoute/" + ns + "/" + name;
}

std::string meshServiceObjectKey(const std::string& ns, const std::string& name) {
  return "MeshService/" + ns + "/" + name;
}

std::string ingressClassOf(const nlohmann::json& route) {
  const auto spec = route.find("spec");
  if (spec != route.end() && spec->is_object()) {
    const auto name = spec->find("ingressClassName");
    if (name != spec->end() && name->is_string()) return name->get<std::string>();
  }
  return std::string(api::kDefaultIngressClassName);
}

GatewayRoutes buildGatewayRoutes(const GatewayCaches& caches, const std::string& ingressClass) {
  GatewayRoutes out;
  const RouteAdmissionCaches admissionCaches{caches.apiRoutes, caches.meshServices,
                                             caches.namespaces};
  // Routes, in key order so that the same caches always give the same config.
  auto routes = caches.apiRoutes.list();
  std::sort(routes.begin(), routes.end(),
            [](const auto& a, const auto& b) { return kube::keyOf(*a) < kube::keyOf(*b); });
  for (const auto& live : routes) {
    if (ingressClassOf(*live) != ingressClass) continue;
    const auto& metadata = (*live)["metadata"];
    const std::string ns = metadata.value("namespace", "");
    if (namespaceTerminating(caches.namespaces, ns)) continue;
    auto admission = admitRoute(*live, admissionCaches);
    if (!admission) continue;
    auto pieces = servedRoutes(*admission);
    if (pieces.empty()) continue;
    const std::string owner = apiRouteObjectKey(ns, admission->route.metadata.name);
    out.contents.generations[owner] = objectGeneration(*live);
    for (auto& piece : pieces) {
      out.contents.routeOwners[ns + "/" + piece.metadata.name] = owner;
      for (const auto& rule : piece.spec.rules)
        for (const auto& backend : rule.backends)
          out.services.insert(ns + "/" + backend.service);
      for (const auto& ref : authSecretRefs(piece))
        out.authSecrets[ns][ref.name].insert(ref.key);
      out.routes.push_back(std::move(piece));
    }
    const auto& tls = admission->route.spec.tls;
    if (tls && !admission->plan.hosts.empty()) {
      out.secrets.insert(
          ns + "/" +
          tls->secretName.value_or(hostCertificateSecretName(admission->route.metadata.name)));
    }
  }
  return out;
}

GatewaySnapshot buildGatewaySnapshot(const GatewayCaches& caches, const std::string& ingressClass,
                                     const GatewayBuildOptions& options) {
  return assembleGatewaySnapshot(buildGatewayRoutes(caches, ingressClass), caches, options);
}

GatewaySnapshot assembleGatewaySnapshot(const GatewayRoutes& routes, const GatewayCaches& caches,
                                        const GatewayBuildOptions& options) {
  const GatewayListenerPorts& ports = options.ports;
  GatewaySnapshot out;
  api::ProxyConfig& config = out.config;
  config.routes = routes.routes;
  out.contents = routes.contents;
  for (const auto& key : routes.services) {
    const auto live = caches.meshServices.get(key);
    if (!live) continue;  // admission checked it; the cache may have moved on since
    auto decoded = api::decodeMeshService(*live);
    if (!decoded.ok()) continue;
    out.contents.generations[meshServiceObjectKey(decoded.object->metadata.namespace_,
                                                  decoded.object->metadata.name)] =
        objectGeneration(*live);
    api::ClusterConfig cluster =
        meshServiceCluster(*decoded.object, caches.endpointSlices, caches.pods);
    // Workloads that refuse plaintext are called over mTLS with the gateway's identity; under
    // Permissive the gateway calls in plaintext, as endpoints need not have a sidecar.
    if (mtlsModeOf(*decoded.object) == api::mtls_mode::kStrict)
      cluster.meshIdentity = meshServiceIdentity(*decoded.object, options.trustDomain);
    config.clusters.push_back(std::move(cluster));
  }

  api::ListenerConfig http;
  http.name = "http";
  http.address = "0.0.0.0";
  http.port = ports.http;
  config.listeners.push_back(std::move(http));
  api::ListenerTls listenerTls;
  for (const auto& key : routes.secrets) {
    const auto secret = caches.tlsSecrets.get(key);
    if (!secret) continue;
    api::TlsCertificate certificate;
    certificate.certificatePem = secretData(*secret, "tls.crt");
    certificate.privateKeyPem = secretData(*secret, "tls.key");
    if (certificate.certificatePem.empty() || certificate.privateKeyPem.empty()) continue;
    listenerTls.certificates.push_back(std::move(certificate));
  }
  if (!listenerTls.certificates.empty()) {
    api::ListenerConfig https;
    https.name = "https";
    https.address = "0.0.0.0";
    https.port = ports.https;
    https.tls = std::move(listenerTls);
    config.listeners.push_back(std::move(https));
  }

  // The auth Secrets, by namespace and name (both map orders), with only the keys routes name.
  // Their values are in the config, so a rotated key makes a new version.
  for (const auto& [ns, names] : routes.authSecrets) {
    std::vector<AuthSecretRef> refs;
    for (const auto& [name, keys] : names)
      for (const auto& key : keys)
        refs.push_back({name, key});
    for (auto& [name, data] : resolveAuthSecrets(ns, refs, caches.authSecrets).found) {
      api::SecretConfig secret;
      secret.name = name;
      secret.namespace_ = ns;
      secret.data = std::move(data);
      config.secrets.push_back(std::move(secret));
    }
  }

  sealSnapshot(out);
  return out;
}

}  // namespace meshgate::op
