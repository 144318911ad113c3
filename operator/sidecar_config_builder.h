// SidecarConfigBuilder: the ProxyConfig (api/proxy_config.h) the sidecars of one workload
// identity serve in the mesh, built from the informer caches. Its `mesh` section lists every valid
// MeshService of the cluster with HTTP ports as an outbound service (cluster IPs, ports, the host
// names a client uses, the SPIFFE ID its endpoints present, and whether this identity may call it
// under the MeshService's authorization) and, as inbound ports, the target ports of the
// MeshServices this identity serves (same namespace and service account) with their mTLS mode and
// allow list. `clusters` holds the cluster (mesh_service_cluster.h, the gateway's too) of each
// MeshService the identity may call, and only those: no endpoint of a service it may not call
// leaves the operator. No listeners, routes or secrets: the sidecar makes its own. The version is
// a digest of the config and of the MeshServices' generations (built_snapshot.h), so every
// replica agrees. Reads caches only; called by the ConfigPublisher on its own thread.
//
// Ports of protocol TCP are left out (a later issue), and so is a MeshService that has no other.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/mesh_identity.h"
#include "api/mesh_service.h"
#include "api/proxy_config.h"
#include "kube/thread_safe_store.h"
#include "operator/built_snapshot.h"

namespace meshgate::op {

struct SidecarCaches {
  const kube::ThreadSafeStore& meshServices;
  const kube::ThreadSafeStore& endpointSlices;  // with kEndpointSlicesByService
  const kube::ThreadSafeStore& pods;            // the labels subsets select endpoints by
  const kube::ThreadSafeStore& services;        // labelled managed-by=meshgate: their cluster IPs
};

// One valid MeshService with HTTP ports, and what any sidecar's snapshot takes from it.
struct SidecarService {
  api::MeshService service;
  std::int64_t generation = 0;
  std::vector<std::uint16_t> ports;     // HTTP and HTTP2 (or no protocol) ports, ascending
  std::vector<std::uint16_t> tcpPorts;  // TCP ports, ascending
  std::vector<std::string> addresses;   // its Service's cluster IPs
  api::ClusterConfig cluster;
};

// What sidecar snapshots are made of, whoever asks: built once per change and shared by the
// snapshots of every identity (the ConfigPublisher builds many). Sorted by namespace and name.
struct SidecarInputs {
  std::vector<SidecarService> services;
};

SidecarInputs buildSidecarInputs(const SidecarCaches& caches);

// The snapshot of `caller` (whose trust domain is the mesh's) from `inputs`.
BuiltSnapshot assembleSidecarSnapshot(const SidecarInputs& inputs,
                                      const api::WorkloadIdentity& caller);

// Both steps.
BuiltSnapshot buildSidecarSnapshot(const SidecarCaches& caches,
                                   const api::WorkloadIdentity& caller);

}  // namespace meshgate::op
