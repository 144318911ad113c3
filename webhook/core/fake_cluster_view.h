// A map-backed ClusterView for the webhook's unit tests (injection and admission): the test puts
// Namespaces, ApiRoutes and MeshServices in, the decisions read them back. Test-only; not
// thread-safe (tests are single-threaded).
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "webhook/core/cluster_view.h"

namespace meshgate::webhook {

class FakeClusterView : public ClusterView {
 public:
  // A Namespace with the given annotations and labels (none: the map is left out).
  void addNamespace(const std::string& name,
                    const std::map<std::string, std::string>& annotations = {},
                    const std::map<std::string, std::string>& labels = {}) {
    nlohmann::json ns = {
        {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    if (!annotations.empty()) ns["metadata"]["annotations"] = annotations;
    if (!labels.empty()) ns["metadata"]["labels"] = labels;
    namespaces_[name] = std::make_shared<const nlohmann::json>(std::move(ns));
  }
  void addApiRoute(const nlohmann::json& route) {
    routes_.push_back(std::make_shared<const nlohmann::json>(route));
  }
  void addMeshService(const nlohmann::json& service) {
    const auto& metadata = service.at("metadata");
    meshServices_[metadata.at("namespace").get<std::string>() + "/" +
                  metadata.at("name").get<std::string>()] =
        std::make_shared<const nlohmann::json>(service);
  }

  // ClusterView
  ObjectPtr namespaceObject(const std::string& name) const override {
    const auto it = namespaces_.find(name);
    return it == namespaces_.end() ? nullptr : it->second;
  }
  std::vector<ObjectPtr> apiRoutesWithHost(const std::string& host) const override {
    std::vector<ObjectPtr> out;
    for (const auto& route : routes_) {
      const nlohmann::json::json_pointer hostsPointer("/spec/hosts");
      if (!route->contains(hostsPointer)) continue;
      const auto& hosts = route->at(hostsPointer);
      if (std::find(hosts.begin(), hosts.end(), host) != hosts.end()) out.push_back(route);
    }
    return out;
  }
  ObjectPtr meshService(const std::string& ns, const std::string& name) const override {
    const auto it = meshServices_.find(ns + "/" + name);
    return it == meshServices_.end() ? nullptr : it->second;
  }

 private:
  std::map<std::string, ObjectPtr> namespaces_;
  std::vector<ObjectPtr> routes_;
  std::map<std::string, ObjectPtr> meshServices_;
};

}  // namespace meshgate::webhook
