// ClusterView reads from informer caches; see webhook/informer_cluster_view.h.
#include "webhook/informer_cluster_view.h"

#include <spdlog/spdlog.h>

namespace meshgate::webhook {

std::vector<std::string> apiRouteHosts(const nlohmann::json& route) {
  std::vector<std::string> hosts;
  auto spec = route.find("spec");
  if (spec == route.end() || !spec->is_object()) return hosts;
  auto list = spec->find("hosts");
  if (list == spec->end() || !list->is_array()) return hosts;
  for (const auto& host : *list) {
    if (host.is_string()) hosts.push_back(host.get<std::string>());
  }
  return hosts;
}

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
  auto routes = apiRoutes_.store().byIndex(kApiRoutesByHostIndex, host);
  return {routes.begin(), routes.end()};
}

ObjectPtr InformerClusterView::meshService(const std::string& ns, const std::string& name) const {
  return meshServices_.store().get(ns + "/" + name);
}

}  // namespace meshgate::webhook
