// The text `meshgatectl diff` prints: one line per object, in the order given (kind, namespace,
// name), marked like a unified diff — `+` would be created (the object follows as YAML), `~`
// would be updated (one line per differing path: `spec.ports[0].targetPort: live 8080, rendered
// 9090`), `-` would be deleted, `=` up to date or left as it is — and a closing count. Values are
// JSON, "(absent)" when a side lacks the path. Only render's objects and live Services,
// EndpointSlices and Ingresses get here: no Secret data. Pure.
#pragma once

#include <iosfwd>
#include <vector>

#include "cli/object_diff.h"

namespace meshgate::cli {

void printDiffReport(const std::vector<ObjectDiff>& diffs, std::ostream& out);

}  // namespace meshgate::cli
