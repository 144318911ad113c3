// What of an informer's update can change a gateway snapshot. The leader's status writes update
// every ApiRoute and MeshService it reconciles; rebuilding 5,000 routes for each of those writes
// (which change nothing a snapshot reads: snapshots are built from metadata and spec) kept the
// publisher busy for minutes after a bulk apply. Pure.
#pragma once

#include <nlohmann/json.hpp>

namespace meshgate::op {

// False when `before` and `after` differ only in what every write changes (resourceVersion,
// managedFields) or in their status.
bool changesSnapshots(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace meshgate::op
