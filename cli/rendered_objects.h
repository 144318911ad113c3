// What `meshgatectl diff` compares with the cluster: the Kubernetes objects `meshgatectl render`
// prints for a set of manifests, and the MeshServices and ApiRoutes that own them. It runs
// render itself (cli/render_command.h, objects and status sections) and reads its output back,
// so diff compares exactly what render shows. Touches nothing but the files it reads.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cluster_diff.h"

namespace meshgate::cli {

struct RenderedObjects {
  // runRender's exit code; kRenderInputError leaves the lists below empty.
  int renderCode = 0;
  // Services, EndpointSlices and Ingresses, in render's order (kind, namespace, name).
  std::vector<nlohmann::json> objects;
  // Every MeshService and ApiRoute of the input; an invalid one (Accepted=False Invalid) has
  // childrenReconciled false.
  std::vector<InputOwner> owners;
};

// render's messages (objects not accepted, unresolved backends, skipped documents) go to `err`.
RenderedObjects renderObjects(const std::vector<std::string>& paths,
                              const std::string& defaultNamespace, std::istream& in,
                              std::ostream& err);

}  // namespace meshgate::cli
