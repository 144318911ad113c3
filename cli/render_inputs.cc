// Manifest documents → the normalised objects render works on; see cli/render_inputs.h.
#include "cli/render_inputs.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "api/api_route_codec.h"
#include "api/document_validation.h"
#include "api/mesh_service_codec.h"
#include "api/schema_defaults.h"
#include "kube/thread_safe_store.h"

namespace meshgate::cli {

namespace {

enum class InputKind { kMeshService, kApiRoute, kNamespace, kOther };

std::string stringAt(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

InputKind kindOf(const nlohmann::json& object) {
  const std::string apiVersion = stringAt(object, "apiVersion");
  const std::string kind = stringAt(object, "kind");
  if (apiVersion == api::kGroupVersion && kind == api::MeshService::kKind)
    return InputKind::kMeshService;
  if (apiVersion == api::kGroupVersion && kind == api::ApiRoute::kKind) return InputKind::kApiRoute;
  if (apiVersion == "v1" && kind == "Namespace") return InputKind::kNamespace;
  return InputKind::kOther;
}

// The object as the apiserver would store it: CRD schema defaults applied. (The webhook's
// MeshService defaults are not: the operator falls back to the same values without them, and
// they would double the errors of an invalid port.) One that does not decode stays as written.
nlohmann::json withDefaults(const nlohmann::json& object, InputKind kind) {
  if (kind == InputKind::kMeshService) {
    auto decoded = api::decodeMeshService(object);
    if (!decoded.ok()) return object;
    api::applySchemaDefaults(*decoded.object);
    return api::encodeMeshService(*decoded.object);
  }
  if (kind == InputKind::kApiRoute) {
    auto decoded = api::decodeApiRoute(object);
    if (!decoded.ok()) return object;
    api::applySchemaDefaults(*decoded.object);
    return api::encodeApiRoute(*decoded.object);
  }
  return object;
}

std::string where(const ManifestDocument& document) {
  return document.source + ": document " + std::to_string(document.index + 1);
}

}  // namespace

RenderInputs selectRenderInputs(const std::vector<ManifestDocument>& documents,
                                const std::string& defaultNamespace) {
  RenderInputs out;
  // By kind and key, then source and index: the first of a duplicated key is rendered.
  std::map<std::tuple<InputKind, std::string, std::string, std::size_t>, InputObject> picked;
  for (const auto& document : documents) {
    const nlohmann::json& object = document.object;
    if (!object.is_object()) {
      out.errors.push_back(where(document) + ": not an object");
      continue;
    }
    const InputKind kind = kindOf(object);
    const std::string kindName = stringAt(object, "kind");
    if (kind == InputKind::kOther) {
      const std::string apiVersion = stringAt(object, "apiVersion");
      const auto metadata = object.find("metadata");
      const std::string what =
          apiVersion.empty() && kindName.empty()
              ? "document " + std::to_string(document.index + 1) + " (no apiVersion and kind)"
              : apiVersion + "/" + kindName + " " +
                    (metadata != object.end() && metadata->is_object() ? stringAt(*metadata, "name")
                                                                       : std::string());
      out.notes.push_back(document.source + ": skipping " + what +
                          ": render reads only meshgate.io/v1alpha1 MeshServices and ApiRoutes "
                          "and v1 Namespaces");
      continue;
    }
    nlohmann::json normalised = object;
    auto& metadata = normalised["metadata"];
    if (!metadata.is_object() || stringAt(metadata, "name").empty()) {
      out.errors.push_back(where(document) + ": " + kindName + ": metadata.name: Required value");
      continue;
    }
    if (kind == InputKind::kNamespace) {
      metadata.erase("namespace");
    } else if (stringAt(metadata, "namespace").empty()) {
      metadata["namespace"] = defaultNamespace;
    }
    normalised = withDefaults(normalised, kind);
    const std::string key = kube::keyOf(normalised);
    picked.emplace(std::make_tuple(kind, key, document.source, document.index),
                   InputObject{document.source, document.index, key, std::move(normalised)});
  }
  // The rendered copy of the key before, to name it when a duplicate follows.
  std::string previousKey;
  std::string previousWhere;
  for (auto& [order, input] : picked) {
    const InputKind kind = std::get<0>(order);
    const std::string kindName = stringAt(input.object, "kind");
    const std::string kindKey = kindName + "/" + input.key;
    const std::string here = input.source + " (document " + std::to_string(input.index + 1) + ")";
    if (kindKey == previousKey) {
      out.errors.push_back(input.source + ": document " + std::to_string(input.index + 1) + ": " +
                           kindKey + " is also defined in " + previousWhere +
                           ", which is the one rendered");
      continue;
    }
    previousKey = kindKey;
    previousWhere = here;
    std::vector<InputObject>& list = kind == InputKind::kMeshService ? out.meshServices
                                     : kind == InputKind::kApiRoute  ? out.apiRoutes
                                                                     : out.namespaces;
    list.push_back(std::move(input));
  }
  return out;
}

}  // namespace meshgate::cli
