// The upstream cluster (api::ClusterConfig) a proxy gets for one MeshService — its traffic policy,
// its static endpoints (loopback ones included, which no EndpointSlice may hold) and the ready
// endpoints of the EndpointSlices Kubernetes keeps for its Service, labelled with their pods'
// labels so that subsets select them. One function, so that a gateway and a sidecar calling the
// same MeshService get the same cluster. Reads caches only; called by the config builders
// (gateway_config_builder.h, sidecar_config_builder.h) on the publisher's thread.
#pragma once

#include "api/mesh_service.h"
#include "api/proxy_config.h"
#include "kube/thread_safe_store.h"

namespace meshgate::op {

// Named after the MeshService, in its namespace; targetPorts maps each port to its targetPort.
// `endpointSlices` must have the kEndpointSlicesByService index; `pods` gives the labels.
api::ClusterConfig meshServiceCluster(const api::MeshService& ms,
                                      const kube::ThreadSafeStore& endpointSlices,
                                      const kube::ThreadSafeStore& pods);

}  // namespace meshgate::op
