// OfflineCluster: the operator's informer caches, filled from manifests instead of watches, so
// that `meshgatectl render` runs the operator's own admission, Ingress and snapshot code with no
// apiserver. Each store carries the indexes operator/main.cc registers on the matching informer
// (and the namespace index every informer has). MeshServices, ApiRoutes and Namespaces come from
// the input, EndpointSlices from what render derives for the MeshServices; Secrets and Pods are
// not inputs, so their stores stay empty. Not thread-safe while being filled.
#pragma once

#include <nlohmann/json.hpp>

#include "kube/thread_safe_store.h"
#include "operator/gateway_config_builder.h"
#include "operator/route_admission.h"

namespace meshgate::cli {

class OfflineCluster {
 public:
  OfflineCluster();
  OfflineCluster(const OfflineCluster&) = delete;
  OfflineCluster& operator=(const OfflineCluster&) = delete;

  // Each adds (or replaces) the object under its kube::keyOf key; it must have metadata.name.
  void addMeshService(const nlohmann::json& object);
  void addApiRoute(const nlohmann::json& object);
  void addNamespace(const nlohmann::json& object);
  void addEndpointSlice(const nlohmann::json& object);

  const kube::ThreadSafeStore& apiRoutes() const { return apiRoutes_; }
  const kube::ThreadSafeStore& meshServices() const { return meshServices_; }

  op::RouteAdmissionCaches admissionCaches() const;
  op::GatewayCaches gatewayCaches() const;

 private:
  kube::ThreadSafeStore apiRoutes_;
  kube::ThreadSafeStore meshServices_;
  kube::ThreadSafeStore endpointSlices_;
  kube::ThreadSafeStore namespaces_;
  kube::ThreadSafeStore tlsSecrets_;
  kube::ThreadSafeStore pods_;
  kube::ThreadSafeStore authSecrets_;
};

}  // namespace meshgate::cli
