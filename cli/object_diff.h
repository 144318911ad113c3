// How one object `meshgatectl render` prints differs from its live copy in the cluster, for
// `meshgatectl diff`. The rendered object is what the operator would apply with server-side
// apply, so it is a subset of the live one (defaults, other managers' fields, status): only the
// fields it sets are compared, as the operator's own apply-if-changed test does
// (operator/desired_state.h), and each path that differs is reported. Metadata the apiserver owns
// (uid, resourceVersion, managedFields, creationTimestamp, generation) is never compared, nor an
// ownerReference's uid when the rendered one has none. Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshgate::cli {

// One path where the live object does not hold what render sets: `spec.ports[0].targetPort`,
// `metadata.labels["app.kubernetes.io/managed-by"]`. An absent side is nullopt (a live list
// element render does not set is reported with `rendered` absent).
struct FieldDifference {
  std::string path;
  std::optional<nlohmann::json> live;
  std::optional<nlohmann::json> rendered;

  bool operator==(const FieldDifference&) const = default;
};

enum class ObjectChange {
  kUpToDate,  // the live object holds every field render sets
  kCreate,    // not in the cluster: the operator would create it
  kUpdate,    // `fields` differ: the operator would apply it again
  kDelete,    // live, managed by meshgate, not rendered (cli/cluster_diff.h)
  kLeftAsIs,  // live, not rendered, but the operator leaves it alone (cli/cluster_diff.h)
};

struct ObjectDiff {
  std::string kind;
  std::string ns;
  std::string name;
  ObjectChange change = ObjectChange::kUpToDate;
  std::vector<FieldDifference> fields;  // kUpdate: in the order of the rendered object's keys
  nlohmann::json object;                // kCreate: the rendered object
  std::string note;                     // why, when it is worth saying: "applied-hash equal"
};

// Every path of `rendered` whose value `live` lacks or holds differently. Lists are compared in
// order, element by element; a value render leaves empty ("", {}, []) matches an absent one, as
// the apiserver omits empty values. The applied-hash annotation is left to diffObject.
std::vector<FieldDifference> diffFields(const nlohmann::json& rendered, const nlohmann::json& live);

// `rendered` (kind, metadata.namespace and metadata.name set) against `live`, null when the
// cluster has no such object. The meshgate.io/applied-hash annotation says which desired state
// the operator last applied; it can be compared only when the rendered owner references carry
// uids (the hash covers them). Equal on both sides, with the fields equal, the object is up to
// date; different with the fields equal, it is an update all the same (the operator applies
// again, and server-side apply then drops fields it set before and no longer sets). Equal hashes
// do not hide fields someone else changed since: the fields are always compared.
ObjectDiff diffObject(const nlohmann::json& rendered, const nlohmann::json* live);

}  // namespace meshgate::cli
