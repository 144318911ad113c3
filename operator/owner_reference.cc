// Child metadata with labels and owner references.
#include "operator/owner_reference.h"

namespace meshgate::op {

nlohmann::json ownerReference(const api::ObjectMeta& owner, const std::string& ownerKind,
                              bool controller) {
  nlohmann::json ref = {{"apiVersion", "meshgate.io/v1alpha1"},
                        {"kind", ownerKind},
                        {"name", owner.name},
                        {"uid", owner.uid}};
  if (controller) {
    ref["controller"] = true;
    ref["blockOwnerDeletion"] = true;
  }
  return ref;
}

nlohmann::json childMetadata(const std::string& name, const api::ObjectMeta& owner,
                             const std::string& ownerKind) {
  return {{"name", name},
          {"namespace", owner.namespace_},
          {"labels", {{kManagedByLabel, kManagedByValue}}},
          {"ownerReferences", nlohmann::json::array({ownerReference(owner, ownerKind, true)})}};
}

}  // namespace meshgate::op
