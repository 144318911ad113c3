// GatewayConfigBuilder: the ProxyConfig (api/proxy_config.h) a gateway of one ingress class
// serves, built from the informer caches — every admitted ApiRoute of the class as
// served_route.h cuts it, one cluster per MeshService those routes name (its traffic policy, its
// static endpoints — loopback ones included, which no EndpointSlice may hold — and the ready
// endpoints of the EndpointSlices Kubernetes keeps for its selector, labelled with their pods'
// labels for subsets; mesh_service_cluster.h), the listener certificates
// of the routes' spec.tls (the named Secret, or the host certificate the operator issued), the
// keys of the Secrets the routes' auth names (auth_secrets.h: only those keys, decoded; a Secret
// or key that is missing is left out, and the gateway answers 503 on the rules that need it), an
// `http` listener and, when there is a certificate, an `https` one. The version is a digest of
// the config and of the generations it was built from (built_snapshot.h). Reads caches only;
// called by the ConfigPublisher on its own thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/proxy_config.h"
#include "kube/thread_safe_store.h"
#include "operator/built_snapshot.h"
#include "operator/dataplane_registry.h"

namespace meshgate::op {

struct GatewayCaches {
  const kube::ThreadSafeStore& apiRoutes;  // with kApiRoutesByHost
  const kube::ThreadSafeStore& meshServices;
  const kube::ThreadSafeStore& endpointSlices;  // with kEndpointSlicesByService
  const kube::ThreadSafeStore& tlsSecrets;      // Secrets of type kubernetes.io/tls
  const kube::ThreadSafeStore& namespaces;
  const kube::ThreadSafeStore& pods;         // the labels subsets select endpoints by
  const kube::ThreadSafeStore& authSecrets;  // Secrets of type Opaque (JWKS, API keys)
};

struct GatewayListenerPorts {
  std::uint16_t http = 8080;
  std::uint16_t https = 8443;
};

// What a gateway snapshot takes besides the caches.
struct GatewayBuildOptions {
  GatewayListenerPorts ports;
  // The mesh's: a Strict MeshService's cluster names the SPIFFE ID its workloads present, and the
  // gateway calls them over mTLS with its own identity (api::ClusterConfig::meshIdentity).
  std::string trustDomain = "cluster.local";
};

using GatewaySnapshot = BuiltSnapshot;

// The route half of a snapshot: what the routes of a class serve, and what they need from the
// rest of the cluster. Endpoint changes do not touch it, so the publisher keeps it between
// builds and an EndpointSlice change costs only the clusters (assembleGatewaySnapshot).
struct GatewayRoutes {
  std::vector<api::ApiRoute> routes;
  SnapshotContents contents;       // the ApiRoutes' generations and the route owners
  std::set<std::string> services;  // "ns/name" of the MeshServices they name
  std::set<std::string> secrets;   // "ns/name" of their TLS Secrets
  // What their auth names: namespace → Secret name → keys.
  std::map<std::string, std::map<std::string, std::set<std::string>>> authSecrets;
};

// The object keys of SnapshotContents.
std::string apiRouteObjectKey(const std::string& ns, const std::string& name);
std::string meshServiceObjectKey(const std::string& ns, const std::string& name);

// The ingress class an ApiRoute object names (default "meshgate"); tolerates any JSON.
std::string ingressClassOf(const nlohmann::json& route);

GatewayRoutes buildGatewayRoutes(const GatewayCaches& caches, const std::string& ingressClass);

// The snapshot of `routes` with the clusters, endpoints and certificates the caches hold now.
GatewaySnapshot assembleGatewaySnapshot(const GatewayRoutes& routes, const GatewayCaches& caches,
                                        const GatewayBuildOptions& options);

// Both steps.
GatewaySnapshot buildGatewaySnapshot(const GatewayCaches& caches, const std::string& ingressClass,
                                     const GatewayBuildOptions& options);

}  // namespace meshgate::op
