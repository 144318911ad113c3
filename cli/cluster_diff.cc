// Rendered objects against the live ones; see cli/cluster_diff.h.
#include "cli/cluster_diff.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "operator/mesh_service_children.h"
#include "operator/owner_reference.h"

namespace meshgate::cli {

namespace {

using nlohmann::json;

std::string keyOf(const json& object) {
  const auto& metadata = object.at("metadata");
  return object.value("kind", "") + "/" + metadata.value("namespace", "") + "/" +
         metadata.value("name", "");
}

// The controller ownerReference's "Kind ns/name"; "" without one.
std::string controllerOf(const json& object) {
  const auto& metadata = object.at("metadata");
  const auto references = metadata.find("ownerReferences");
  if (references == metadata.end() || !references->is_array()) return "";
  for (const auto& reference : *references) {
    if (reference.value("controller", false)) {
      return reference.value("kind", "") + " " + metadata.value("namespace", "") + "/" +
             reference.value("name", "");
    }
  }
  return "";
}

ObjectDiff notRendered(const json& live, const std::map<std::string, bool>& owners) {
  const auto& metadata = live.at("metadata");
  ObjectDiff diff;
  diff.kind = live.value("kind", "");
  diff.ns = metadata.value("namespace", "");
  diff.name = metadata.value("name", "");
  diff.change = ObjectChange::kDelete;
  const std::string owner = controllerOf(live);
  const auto found = owners.find(owner);
  if (owner.empty()) {
    diff.note = "managed by meshgate, owned by nothing in the input";
  } else if (found == owners.end()) {
    diff.note = "orphaned: its owner " + owner +
                " is not in the input; the garbage collector deletes it with its owner";
  } else if (found->second) {
    diff.note = "the operator deletes it: " + owner + " no longer produces it";
  } else {
    diff.change = ObjectChange::kLeftAsIs;
    diff.note = "its owner " + owner + " is invalid: the operator leaves its children";
  }
  return diff;
}

}  // namespace

bool isManagedByMeshgate(const json& object) {
  if (object.value("kind", "") == "EndpointSlice") return op::isStaticEndpointSlice(object);
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return false;
  const auto labels = metadata->find("labels");
  return labels != metadata->end() && labels->is_object() &&
         labels->value(op::kManagedByLabel, "") == op::kManagedByValue;
}

std::vector<ObjectDiff> compareWithCluster(const std::vector<json>& rendered,
                                           const std::vector<json>& live,
                                           const std::vector<InputOwner>& owners) {
  std::map<std::string, const json*> liveByKey;
  for (const auto& object : live)
    liveByKey.emplace(keyOf(object), &object);
  std::map<std::string, bool> ownersByName;  // "Kind ns/name" → children reconciled
  std::set<std::string> namespaces;
  for (const auto& owner : owners) {
    ownersByName[owner.kind + " " + owner.ns + "/" + owner.name] = owner.childrenReconciled;
    namespaces.insert(owner.ns);
  }

  std::vector<ObjectDiff> diffs;
  std::set<std::string> renderedKeys;
  for (const auto& object : rendered) {
    const std::string key = keyOf(object);
    renderedKeys.insert(key);
    const auto found = liveByKey.find(key);
    diffs.push_back(diffObject(object, found == liveByKey.end() ? nullptr : found->second));
  }
  for (const auto& [key, object] : liveByKey) {
    if (renderedKeys.count(key) != 0 || !isManagedByMeshgate(*object)) continue;
    if (namespaces.count((*object)["metadata"].value("namespace", "")) == 0) continue;
    diffs.push_back(notRendered(*object, ownersByName));
  }
  std::sort(diffs.begin(), diffs.end(), [](const ObjectDiff& a, const ObjectDiff& b) {
    return std::tie(a.kind, a.ns, a.name) < std::tie(b.kind, b.ns, b.name);
  });
  return diffs;
}

bool hasChanges(const std::vector<ObjectDiff>& diffs) {
  return std::any_of(diffs.begin(), diffs.end(), [](const ObjectDiff& diff) {
    return diff.change == ObjectChange::kCreate || diff.change == ObjectChange::kUpdate ||
           diff.change == ObjectChange::kDelete;
  });
}

}  // namespace meshgate::cli
