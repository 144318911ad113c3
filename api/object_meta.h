// ObjectMeta and OwnerReference: the subset of Kubernetes metav1.ObjectMeta that meshgate reads
// and writes. Embedded in MeshService and ApiRoute; the operator fills ownerReferences on the
// objects it creates. Timestamps stay RFC 3339 strings as they travel on the wire.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshgate::api {

struct OwnerReference {
  std::string apiVersion{};
  std::string kind{};
  std::string name{};
  std::string uid{};
  std::optional<bool> controller{};
  std::optional<bool> blockOwnerDeletion{};

  bool operator==(const OwnerReference&) const = default;
};

// Every field is optional on the wire; empty strings, zero and empty collections are omitted when
// encoding, as Go's `omitempty` does for metav1.ObjectMeta.
struct ObjectMeta {
  std::string name{};
  // `namespace` is a C++ keyword.
  std::string namespace_{};
  std::string uid{};
  std::int64_t generation = 0;
  std::string resourceVersion{};
  std::string creationTimestamp{};
  std::map<std::string, std::string> labels{};
  std::map<std::string, std::string> annotations{};
  std::vector<OwnerReference> ownerReferences{};
  std::optional<std::string> deletionTimestamp{};

  bool operator==(const ObjectMeta&) const = default;
};

}  // namespace meshgate::api
