// Informer stores filled from manifests; see cli/offline_cluster.h.
#include "cli/offline_cluster.h"

#include <memory>
#include <string>

#include "api/route_conflicts.h"
#include "operator/auth_secrets.h"
#include "operator/mesh_service_reconciler.h"

namespace meshgate::cli {

namespace {

void addTo(kube::ThreadSafeStore& store, const nlohmann::json& object) {
  store.add(kube::keyOf(object), std::make_shared<const nlohmann::json>(object));
}

}  // namespace

OfflineCluster::OfflineCluster() {
  for (kube::ThreadSafeStore* store : {&apiRoutes_, &meshServices_, &endpointSlices_, &namespaces_,
                                       &tlsSecrets_, &pods_, &authSecrets_}) {
    store->addIndexer(std::string(kube::kNamespaceIndex), kube::namespaceIndexFunc);
  }
  meshServices_.addIndexer(op::kMeshServicesByServiceAccount, op::meshServiceAccountIndex);
  endpointSlices_.addIndexer(op::kEndpointSlicesByService, op::endpointSliceServiceIndex);
  apiRoutes_.addIndexer(op::kApiRoutesByHost, api::apiRouteHostIndex);
  apiRoutes_.addIndexer(op::kApiRoutesByBackend, op::apiRouteBackendIndex);
  apiRoutes_.addIndexer(op::kApiRoutesByAuthSecret, op::apiRouteAuthSecretIndex);
}

void OfflineCluster::addMeshService(const nlohmann::json& object) {
  addTo(meshServices_, object);
}

void OfflineCluster::addApiRoute(const nlohmann::json& object) {
  addTo(apiRoutes_, object);
}

void OfflineCluster::addNamespace(const nlohmann::json& object) {
  addTo(namespaces_, object);
}

void OfflineCluster::addEndpointSlice(const nlohmann::json& object) {
  addTo(endpointSlices_, object);
}

op::RouteAdmissionCaches OfflineCluster::admissionCaches() const {
  return {apiRoutes_, meshServices_, namespaces_};
}

op::GatewayCaches OfflineCluster::gatewayCaches() const {
  return {.apiRoutes = apiRoutes_,
          .meshServices = meshServices_,
          .endpointSlices = endpointSlices_,
          .tlsSecrets = tlsSecrets_,
          .namespaces = namespaces_,
          .pods = pods_,
          .authSecrets = authSecrets_};
}

}  // namespace meshgate::cli
