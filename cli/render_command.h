// `meshgatectl render`: what meshgate-operator would write for a set of manifests, computed
// offline by the operator's own code (operator/ linked in, nothing reimplemented) so a GitOps
// pipeline can review and diff it before applying: for each MeshService its Service and static
// EndpointSlices, for each ApiRoute the Ingress of what it is admitted to serve (allowed hosts,
// oldest-wins conflicts, resolved backends), the Accepted and ResolvedRefs conditions of both
// kinds, and the snapshot each gateway ingress class receives. Factored out of main() so tests
// drive it with string streams. Thread-compatible; touches nothing but the files it reads.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace meshgate::cli {

struct RenderOptions {
  // Files, directories (recursive) and "-" for stdin (cli/manifest_reader.h).
  std::vector<std::string> paths;
  // Where objects without metadata.namespace go, as `kubectl apply -n`.
  std::string defaultNamespace = "default";
  // Which sections to print.
  bool objects = true;
  bool status = true;
  bool snapshots = true;
};

inline constexpr int kRenderAllAccepted = 0;
inline constexpr int kRenderNotAccepted = 1;  // an object invalid, not allowed, conflicted, twice
inline constexpr int kRenderInputError = 2;   // a path missing, unreadable or not YAML

// Prints the rendering on `out` as a multi-document YAML stream, sorted by section, then kind,
// namespace and name, so equal inputs give equal bytes whatever their order. Objects that are
// not accepted are named on `err` as `SOURCE: Kind/namespace/name: Reason: message`, as are
// unresolved backends (as warnings, which do not change the exit code). Returns the exit code;
// on an input error nothing is printed on `out`.
int runRender(const RenderOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace meshgate::cli
