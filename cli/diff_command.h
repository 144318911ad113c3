// `meshgatectl diff`: what `meshgatectl render` prints as Kubernetes objects (Services, static
// EndpointSlices, Ingresses) against what the cluster holds, like `kubectl diff` for the
// children meshgate-operator would write: each rendered object would be created, updated (the
// paths that differ) or is up to date, and each object meshgate manages in a namespace of the
// input that render does not produce would be deleted (cli/cluster_diff.h). Reads Services,
// EndpointSlices and Ingresses only; writes nothing to the cluster. Factored out of main() so
// tests drive it with string streams and a fake transport.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "kube/rest_client.h"
#include "kube/result.h"

namespace meshgate::cli {

struct DiffOptions {
  // Files, directories (recursive) and "-" for stdin (cli/manifest_reader.h).
  std::vector<std::string> paths;
  // Where objects without metadata.namespace go, as `kubectl apply -n`.
  std::string defaultNamespace = "default";
};

// kubectl diff's exit codes, with the errors told apart.
inline constexpr int kDiffNoChanges = 0;
inline constexpr int kDiffChanges = 1;
inline constexpr int kDiffInputError = 2;    // a path missing, unreadable or not YAML; usage
inline constexpr int kDiffClusterError = 3;  // no kubeconfig, apiserver unreachable, 403, …

// Called once the input is read, so an unreadable input fails without a cluster.
using ClusterConnector = std::function<kube::Result<kube::RestClientPtr>()>;

// Prints the report (cli/diff_report.h) on `out`. render's messages (objects not accepted,
// unresolved backends) go to `err` and do not change the exit code: an invalid object's children
// are left as they are. A cluster error names the object or list that failed on `err`, and
// nothing is printed on `out`. Returns the exit code.
int runDiff(const DiffOptions& options, const ClusterConnector& connect, std::istream& in,
            std::ostream& out, std::ostream& err);

}  // namespace meshgate::cli
