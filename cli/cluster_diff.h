// The objects `meshgatectl render` prints set against what the cluster holds, for
// `meshgatectl diff`: each rendered object is created, updated or up to date
// (cli/object_diff.h); each live object meshgate manages in a namespace of the input that render
// does not produce is deleted — by the operator when its owner is in the input (static
// EndpointSlices and Ingresses it no longer wants), by the garbage collector with its owner when
// the owner is not — or left as it is, when its owner's spec is invalid (the operator then
// touches no child). Pure.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/object_diff.h"

namespace meshgate::cli {

// A MeshService or ApiRoute of the input, as the owner of the children render produced for it.
struct InputOwner {
  std::string kind;
  std::string ns;
  std::string name;
  // False when its spec is invalid: the operator stops before its children and leaves them.
  bool childrenReconciled = true;
};

// Whether meshgate manages `object` and deletes it when it no longer wants it: a static
// EndpointSlice (endpointslice.kubernetes.io/managed-by=meshgate.io; slices the
// EndpointSlice controller makes for a selector copy the Service's labels, app.kubernetes.io/
// managed-by included), or any other object labelled app.kubernetes.io/managed-by=meshgate.
bool isManagedByMeshgate(const nlohmann::json& object);

// `rendered`: render's Services, EndpointSlices and Ingresses. `live`: the cluster's copies of
// them and the objects meshgate manages in the owners' namespaces, each with kind set (the first
// of two copies counts); others are ignored. Sorted by kind, namespace and name.
std::vector<ObjectDiff> compareWithCluster(const std::vector<nlohmann::json>& rendered,
                                           const std::vector<nlohmann::json>& live,
                                           const std::vector<InputOwner>& owners);

// Whether any entry is a change (create, update or delete): `kubectl diff`'s exit 1.
bool hasChanges(const std::vector<ObjectDiff>& diffs);

}  // namespace meshgate::cli
