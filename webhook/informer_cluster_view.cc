// ClusterView reads from informer caches; see webhook/informer_cluster_view.h.
#include "webhook/informer_cluster_view.h"

#include <spdlog/spdlog.h>

#include "base/ascii.h"

namespace meshgate::webhook {

ObjectPtr InformerClusterView::namespaceObject(const std::string& name) const {
  if (auto cached = namespaces_.store().get(name); cached || live_ == nullptr) return cached;
  auto fetched = live_->get(kube::resources::kNamespaces, "", name);
  if (!fetched) {
    spdlog::debug("namespace {} is not cached and could not be read: {}", name,
                  fetched.error().toString());
    return nullptr;
  }
  return std::make_shared<const nlohmann::json>(std::move(*fetched));
}

std::vector<ObjectPtr> InformerClusterView::apiRoutesWithHost(const std::string& host) const {
  auto routes = apiRoutes_.store().byIndex(kApiRoutesByHostIndex, meshgate::asciiLower(host));
  return {routes.begin(), routes.end()};
}

ObjectPtr InformerClusterView::meshService(const std::string& ns, const std::string& name) const {
  return meshServices_.store().get(ns + "/" + name);
}

}  // namespace meshgate::webhook
