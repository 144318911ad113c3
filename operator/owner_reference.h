// The metadata every object the operator owns carries: the managed-by label and a controller
// ownerReference to its MeshService or ApiRoute, so the garbage collector deletes children with
// their owner and owned-object watches map back to the owner.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "api/object_meta.h"

namespace meshgate::op {

inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "meshgate";
inline constexpr const char* kFieldManager = "meshgate";

// metadata for a child named `name` in the owner's namespace, owned by `owner` (kind given).
nlohmann::json childMetadata(const std::string& name, const api::ObjectMeta& owner,
                             const std::string& ownerKind);

// An ownerReference entry; controller=true marks the one owner that manages the child.
nlohmann::json ownerReference(const api::ObjectMeta& owner, const std::string& ownerKind,
                              bool controller);

}  // namespace meshgate::op
