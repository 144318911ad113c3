// `meshgatectl validate`: checks MeshService and ApiRoute manifests offline, as a GitOps
// pipeline does before applying them. Factored out of main() so tests can drive it with string
// streams. Thread-compatible; touches no global state besides the files it reads.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace meshgate::cli {

// Loads each file (YAML or JSON, multi-document; "-" reads `in`), decodes and validates every
// meshgate.io/v1alpha1 MeshService and ApiRoute, and skips other kinds with a note on `err`.
// Each problem is printed on `out` as `FILE: Kind/name: <error>`. Returns the exit code: 1 when
// anything was invalid or unreadable; otherwise 0, after printing `N objects valid`.
int runValidate(const std::vector<std::string>& files, std::istream& in, std::ostream& out,
                std::ostream& err);

}  // namespace meshgate::cli
