// Informer caches → a gateway's ProxyConfig; see gateway_config_builder.h.
#include "operator/gateway_config_builder.h"

#include <algorithm>
#include <map>
#include <set>

#include "api/duration.h"
#include "api/mesh_service_codec.h"
#include "api/proxy_config_codec.h"
#include "api/schema_defaults.h"
#include "base/sha256.h"
#include "operator/api_route_reconciler.h"
#include "operator/auth_secrets.h"
#include "operator/mesh_service_children.h"
#include "operator/mesh_service_reconciler.h"
#include "operator/namespace_state.h"
#include "operator/secret_data.h"
#include "operator/served_route.h"

namespace meshgate::op {

namespace {

constexpr std::size_t kVersionHexDigits = 16;

int64_t generationOf(const nlohmann::json& object) {
  const auto& metadata = object.at("metadata");
  const auto generation = metadata.find("generation");
  return generation != metadata.end() && generation->is_number_integer()
             ? generation->get<int64_t>()
             : 0;
}

std::optional<api::Millis> durationOf(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  const auto parsed = api::Duration::parse(*text);
  if (!parsed) return std::nullopt;
  return parsed->value();
}

// A ready endpoint of the EndpointSlices Kubernetes keeps for a Service, with the key of its pod.
struct DiscoveredEndpoint {
  std::string address;
  std::string podKey;  // "namespace/name" of targetRef, "" when it names no pod
};

// The ready endpoints of the EndpointSlices Kubernetes keeps for the MeshService's Service; the
// operator's own static slices are left out (the static endpoints come from the spec itself).
std::vector<DiscoveredEndpoint> discoveredEndpoints(const kube::ThreadSafeStore& slices,
                                                    const std::string& serviceKey) {
  std::map<std::string, std::string> byAddress;
  for (const auto& slice : slices.byIndex(kEndpointSlicesByService, serviceKey)) {
    const auto& metadata = (*slice)["metadata"];
    const auto& labels = metadata.value("labels", nlohmann::json::object());
    if (labels.value("endpointslice.kubernetes.io/managed-by", "") == kEndpointSliceManager)
      continue;
    const auto endpoints = slice->find("endpoints");
    if (endpoints == slice->end() || !endpoints->is_array()) continue;
    for (const auto& endpoint : *endpoints) {
      if (!endpoint.is_object()) continue;
      const auto conditions = endpoint.value("conditions", nlohmann::json::object());
      if (conditions.is_object() && conditions.contains("ready") &&
          conditions["ready"].is_boolean() && !conditions["ready"].get<bool>())
        continue;
      const auto list = endpoint.find("addresses");
      if (list == endpoint.end() || !list->is_array() || list->empty() || !(*list)[0].is_string())
        continue;
      std::string podKey;
      const auto ref = endpoint.value("targetRef", nlohmann::json::object());
      if (ref.is_object() && ref.value("kind", "") == "Pod") {
        podKey =
            ref.value("namespace", metadata.value("namespace", "")) + "/" + ref.value("name", "");
      }
      byAddress.emplace((*list)[0].get<std::string>(), std::move(podKey));
    }
  }
  std::vector<DiscoveredEndpoint> out;
  for (auto& [address, podKey] : byAddress)
    out.push_back({address, std::move(podKey)});
  return out;
}

std::map<std::string, std::string> podLabels(const kube::ThreadSafeStore& pods,
                                             const std::string& podKey) {
  std::map<std::string, std::string> out;
  if (podKey.empty()) return out;
  const auto pod = pods.get(podKey);
  if (!pod) return out;
  const auto labels = (*pod)["metadata"].value("labels", nlohmann::json::object());
  if (!labels.is_object()) return out;
  for (const auto& [key, value] : labels.items())
    if (value.is_string()) out[key] = value.get<std::string>();
  return out;
}

api::ClusterConfig clusterOf(const api::MeshService& ms, const kube::ThreadSafeStore& slices,
                             const kube::ThreadSafeStore& pods) {
  api::ClusterConfig cluster;
  cluster.name = ms.metadata.name;
  cluster.namespace_ = ms.metadata.namespace_;
  for (const auto& port : ms.spec.ports) {
    cluster.targetPorts[static_cast<uint16_t>(port.port)] =
        static_cast<uint16_t>(port.targetPort.value_or(port.port));
  }
  std::set<std::string> seen;
  for (const auto& endpoint : ms.spec.endpoints) {
    api::ClusterEndpoint out;
    out.address = endpoint.address;
    if (endpoint.port) out.port = static_cast<uint16_t>(*endpoint.port);
    out.weight = static_cast<uint32_t>(endpoint.weight.value_or(1));
    seen.insert(endpoint.address);
    cluster.endpoints.push_back(std::move(out));
  }
  for (const auto& discovered :
       discoveredEndpoints(slices, ms.metadata.namespace_ + "/" + ms.metadata.name)) {
    if (!seen.insert(discovered.address).second) continue;
    api::ClusterEndpoint out;
    out.address = discovered.address;
    out.labels = podLabels(pods, discovered.podKey);
    cluster.endpoints.push_back(std::move(out));
  }
  for (const auto& subset : ms.spec.subsets)
    cluster.subsets.push_back({subset.name, subset.labels});
  if (ms.spec.loadBalancer) cluster.loadBalancer = *ms.spec.loadBalancer;
  cluster.healthCheck = ms.spec.healthCheck;
  cluster.outlierDetection = ms.spec.outlierDetection;
  if (ms.spec.circuitBreaker) cluster.circuitBreaker = *ms.spec.circuitBreaker;
  cluster.timeout = durationOf(ms.spec.timeout);
  cluster.retries = ms.spec.retries;
  return cluster;
}

}  // namespace

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
    out.contents.generations[owner] = generationOf(*live);
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
                                     const GatewayListenerPorts& ports) {
  return assembleGatewaySnapshot(buildGatewayRoutes(caches, ingressClass), caches, ports);
}

GatewaySnapshot assembleGatewaySnapshot(const GatewayRoutes& routes, const GatewayCaches& caches,
                                        const GatewayListenerPorts& ports) {
  GatewaySnapshot out;
  api::ProxyConfig& config = out.config;
  config.routes = routes.routes;
  out.contents = routes.contents;
  for (const auto& key : routes.services) {
    const auto live = caches.meshServices.get(key);
    if (!live) continue;  // admission checked it; the cache may have moved on since
    auto decoded = api::decodeMeshService(*live);
    if (!decoded.ok()) continue;
    out.contents.generations[meshServiceObjectKey(
        decoded.object->metadata.namespace_, decoded.object->metadata.name)] = generationOf(*live);
    config.clusters.push_back(clusterOf(*decoded.object, caches.endpointSlices, caches.pods));
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

  // The version: the config without it, and what it was built from.
  std::string digestInput = api::encodeProxyConfig(config).dump();
  for (const auto& [object, generation] : out.contents.generations)
    digestInput += "\n" + object + "=" + std::to_string(generation);
  out.version = sha256Hex(digestInput, kVersionHexDigits);
  config.version = out.version;
  return out;
}

}  // namespace meshgate::op
