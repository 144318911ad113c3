// InformerClusterView: the webhook's ClusterView over informer caches of Namespaces, ApiRoutes
// (indexed by host) and MeshServices, kept fresh by watches so an admission decision never waits
// on the apiserver. meshgate-webhook's main() builds the informers and this view; the caches'
// sync gates /readyz, so a decision never reads an empty cache. A Namespace the cache does not hold
// yet (created a moment ago, in the same apply as its pods) is read live from the apiserver.
#pragma once

#include "kube/informer.h"
#include "kube/rest_client.h"
#include "webhook/core/cluster_view.h"

namespace meshgate::webhook {

inline constexpr const char* kApiRoutesByHostIndex = "byHost";

// Filled by api::apiRouteHostIndex (lower-cased hosts), as the operator's index is.

class InformerClusterView : public ClusterView {
 public:
  // apiRoutes must have the kApiRoutesByHostIndex indexer (added before it starts). `live`
  // (nullable) reads a Namespace missing from the cache; give it a short request timeout, since
  // the apiserver waits on the answer.
  InformerClusterView(const kube::Informer& namespaces, const kube::Informer& apiRoutes,
                      const kube::Informer& meshServices, kube::RestClient* live)
      : namespaces_(namespaces), apiRoutes_(apiRoutes), meshServices_(meshServices), live_(live) {}

  // webhook::ClusterView
  ObjectPtr namespaceObject(const std::string& name) const override;
  std::vector<ObjectPtr> apiRoutesWithHost(const std::string& host) const override;
  ObjectPtr meshService(const std::string& ns, const std::string& name) const override;

 private:
  const kube::Informer& namespaces_;
  const kube::Informer& apiRoutes_;
  const kube::Informer& meshServices_;
  kube::RestClient* live_;
};

}  // namespace meshgate::webhook
