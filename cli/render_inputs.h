// The objects `meshgatectl render` works on, picked from manifest documents: meshgate.io/v1alpha1
// MeshServices and ApiRoutes, and v1 Namespaces (for their meshgate.io/allowed-hosts). Each is
// made what the operator would read from its cache: placed in a namespace (metadata.namespace,
// else the default one, as `kubectl apply` does), with the CRD schema defaults the apiserver
// applies. Other kinds are skipped with a note. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/manifest_reader.h"

namespace meshgate::cli {

struct InputObject {
  std::string source;  // where the manifest came from, for messages
  std::size_t index;
  std::string key;  // kube::keyOf: "namespace/name", or "name" for a Namespace
  nlohmann::json object;
};

struct RenderInputs {
  // Each sorted by key, each key once. Objects whose spec does not decode are kept as written:
  // admission reports them Invalid.
  std::vector<InputObject> meshServices;
  std::vector<InputObject> apiRoutes;
  std::vector<InputObject> namespaces;
  // "SOURCE: skipping …" for documents of other kinds.
  std::vector<std::string> notes;
  // Documents that cannot be rendered: not an object, no metadata.name, or an object defined a
  // second time (the copy first in source path and document order is the one rendered).
  std::vector<std::string> errors;
};

RenderInputs selectRenderInputs(const std::vector<ManifestDocument>& documents,
                                const std::string& defaultNamespace);

}  // namespace meshgate::cli
