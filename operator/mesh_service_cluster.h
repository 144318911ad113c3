// The upstream cluster (api::ClusterConfig) a proxy gets for one MeshService — its traffic policy,
// its static endpoints (loopback ones included, which no EndpointSlice may hold) and the ready
// endpoints of the EndpointSlices Kubernetes keeps for its Service, labelled with their pods'
// labels so that subsets select them. One function, so that a gateway and a sidecar calling the
// same MeshService get the same cluster; and the SPIFFE ID its workloads present. Reads caches
// only; called by the config builders (gateway_config_builder.h, sidecar_config_builder.h) on the
// publisher's thread.
#pragma once

#include "api/mesh_service.h"
#include "api/proxy_config.h"
#include "kube/thread_safe_store.h"

namespace meshgate::op {

// Named after the MeshService, in its namespace; targetPorts maps each port to its targetPort,
// http2Ports lists its HTTP2 ports.
// `endpointSlices` must have the kEndpointSlicesByService index; `pods` gives the labels.
api::ClusterConfig meshServiceCluster(const api::MeshService& ms,
                                      const kube::ThreadSafeStore& endpointSlices,
                                      const kube::ThreadSafeStore& pods);

// spec.mtls.mode, or the default (api::kDefaultMtlsMode) when absent.
std::string mtlsModeOf(const api::MeshService& ms);

// The SPIFFE ID the MeshService's workloads present: its identity's service account in its
// namespace, in `trustDomain`.
std::string meshServiceIdentity(const api::MeshService& ms, const std::string& trustDomain);

}  // namespace meshgate::op
