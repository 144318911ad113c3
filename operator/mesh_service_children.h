// The Kubernetes objects a MeshService stands for, as server-side apply bodies: a Service of the
// same name (selector, ports with targetPort) and, for static endpoints, EndpointSlices the
// operator manages (one per address family and endpoint port). Pure functions; the MeshService
// controller applies what they return.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/mesh_service.h"

namespace meshgate::op {

inline constexpr const char* kMeshServiceLabel = "meshgate.io/meshservice";
// A label value: no "/" allowed (kube-controller-manager uses endpointslice-controller.k8s.io).
inline constexpr const char* kEndpointSliceManager = "meshgate.io";

nlohmann::json desiredService(const api::MeshService& ms);

// Empty when the MeshService has no static endpoints. Addresses the apiserver refuses in an
// EndpointSlice (loopback, link-local) are left out: the proxy still gets them from its config.
std::vector<nlohmann::json> desiredEndpointSlices(const api::MeshService& ms);

// Whether meshgate manages this EndpointSlice (a static one of desiredEndpointSlices), by its
// endpointslice.kubernetes.io/managed-by label.
bool isStaticEndpointSlice(const nlohmann::json& slice);

// Whether an EndpointSlice may hold this address (not loopback, not link-local).
bool isSliceAddress(const std::string& address);

// The distinct static endpoint addresses no EndpointSlice can hold, in spec order: the proxies
// serve them from their config, nothing else (kube-proxy, DNS) knows them.
std::vector<std::string> proxyOnlyAddresses(const api::MeshService& ms);

// Endpoint counts of a MeshService (total distinct addresses; ready those whose conditions.ready
// is not false) over
//  - `applied`: its static slices as just applied (desiredEndpointSlices) — not the cache's copies,
//    which lag behind the apply, so the first reconcile already counts them;
//  - `cached`: the EndpointSlices of its Service in the informer cache; only other managers' count
//    (kube-controller-manager's for a selector), meshgate's own are superseded by `applied`;
//  - its proxyOnlyAddresses(), ready: the proxies serve them.
api::EndpointCounts countEndpoints(const api::MeshService& ms,
                                   const std::vector<nlohmann::json>& applied,
                                   const std::vector<const nlohmann::json*>& cached);

// spiffe://<trust-domain>/ns/<ns>/sa/<serviceAccount> (api::spiffeId).
std::string spiffeId(const std::string& trustDomain, const std::string& ns,
                     const std::string& serviceAccount);
// The service account a MeshService runs as (spec.serviceAccount, default its name).
std::string serviceAccountOf(const api::MeshService& ms);

}  // namespace meshgate::op
