// The live side of meshgatectl diff; see cli/live_objects.h.
#include "cli/live_objects.h"

#include <array>

#include "kube/group_version_resource.h"
#include "operator/mesh_service_children.h"
#include "operator/owner_reference.h"

namespace meshgate::cli {

namespace {

using nlohmann::json;

struct ManagedKind {
  const kube::GroupVersionResource& gvr;
  std::string labelSelector;  // what marks the objects of this kind meshgate manages
};

const std::array<ManagedKind, 3>& managedKinds() {
  static const std::array<ManagedKind, 3> kinds = {
      ManagedKind{kube::resources::kServices,
                  std::string(op::kManagedByLabel) + "=" + op::kManagedByValue},
      ManagedKind{
          kube::resources::kEndpointSlices,
          std::string("endpointslice.kubernetes.io/managed-by=") + op::kEndpointSliceManager},
      ManagedKind{kube::resources::kIngresses,
                  std::string(op::kManagedByLabel) + "=" + op::kManagedByValue},
  };
  return kinds;
}

const kube::GroupVersionResource* resourceOf(const std::string& kind) {
  for (const auto& managed : managedKinds()) {
    if (managed.gvr.kind == kind) return &managed.gvr;
  }
  return nullptr;
}

}  // namespace

LiveObjectsResult readLiveObjects(kube::RestClient& client, const std::vector<json>& rendered,
                                  const std::set<std::string>& namespaces) {
  std::vector<json> live;
  for (const auto& object : rendered) {
    const std::string kind = object.value("kind", "");
    const auto& metadata = object.at("metadata");
    const std::string ns = metadata.value("namespace", "");
    const std::string name = metadata.value("name", "");
    const std::string what = kind + " " + ns + "/" + name;
    const kube::GroupVersionResource* gvr = resourceOf(kind);
    if (gvr == nullptr) return what + ": not a kind meshgate applies";
    auto got = client.get(*gvr, ns, name);
    if (!got) {
      if (got.error().isNotFound()) continue;
      return what + ": " + got.error().toString();
    }
    got->emplace("kind", kind);  // present in a GET answer; kept as the apiserver says it
    live.push_back(std::move(got).value());
  }
  for (const auto& ns : namespaces) {
    for (const auto& managed : managedKinds()) {
      kube::ListOptions options;
      options.labelSelector = managed.labelSelector;
      auto listed = client.listAll(managed.gvr, ns, options);
      if (!listed) {
        return "list " + managed.gvr.resource + " in namespace " + ns + " (" +
               managed.labelSelector + "): " + listed.error().toString();
      }
      for (auto& item : (*listed)["items"]) {
        item["kind"] = managed.gvr.kind;
        live.push_back(std::move(item));
      }
    }
  }
  return live;
}

}  // namespace meshgate::cli
