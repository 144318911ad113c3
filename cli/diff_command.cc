// meshgatectl diff; see cli/diff_command.h.
#include "cli/diff_command.h"

#include <ostream>
#include <set>

#include "cli/cluster_diff.h"
#include "cli/diff_report.h"
#include "cli/live_objects.h"
#include "cli/render_command.h"
#include "cli/rendered_objects.h"

namespace meshgate::cli {

int runDiff(const DiffOptions& options, const ClusterConnector& connect, std::istream& in,
            std::ostream& out, std::ostream& err) {
  const RenderedObjects rendered = renderObjects(options.paths, options.defaultNamespace, in, err);
  if (rendered.renderCode == kRenderInputError) return kDiffInputError;

  auto client = connect();
  if (!client) {
    err << "meshgatectl diff: cannot reach the cluster: " << client.error().toString() << '\n';
    return kDiffClusterError;
  }
  std::set<std::string> namespaces;
  for (const auto& owner : rendered.owners)
    namespaces.insert(owner.ns);
  const LiveObjectsResult live = readLiveObjects(**client, rendered.objects, namespaces);
  if (!live) {
    err << "meshgatectl diff: " << live.error() << '\n';
    return kDiffClusterError;
  }

  const std::vector<ObjectDiff> diffs =
      compareWithCluster(rendered.objects, *live, rendered.owners);
  printDiffReport(diffs, out);
  return hasChanges(diffs) ? kDiffChanges : kDiffNoChanges;
}

}  // namespace meshgate::cli
