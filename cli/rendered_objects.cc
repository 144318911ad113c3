// render's output read back for diff; see cli/rendered_objects.h.
#include "cli/rendered_objects.h"

#include <sstream>

#include "api/condition.h"
#include "api/yaml_loader.h"
#include "cli/render_command.h"

namespace meshgate::cli {

namespace {

using nlohmann::json;

bool isChildKind(const std::string& kind) {
  return kind == "Service" || kind == "EndpointSlice" || kind == "Ingress";
}

// Accepted=False Invalid: the controllers return before applying or deleting any child.
bool isInvalid(const json& status) {
  const auto conditions = status.find("conditions");
  if (conditions == status.end() || !conditions->is_array()) return false;
  for (const auto& condition : *conditions) {
    if (condition.value("type", "") == api::condition_type::kAccepted) {
      return condition.value("status", "") == api::condition_status::kFalse &&
             condition.value("reason", "") == api::condition_reason::kInvalid;
    }
  }
  return false;
}

}  // namespace

RenderedObjects renderObjects(const std::vector<std::string>& paths,
                              const std::string& defaultNamespace, std::istream& in,
                              std::ostream& err) {
  RenderOptions options;
  options.paths = paths;
  options.defaultNamespace = defaultNamespace;
  options.snapshots = false;
  std::ostringstream rendering;
  RenderedObjects result;
  result.renderCode = runRender(options, in, rendering, err);
  if (result.renderCode == kRenderInputError) return result;

  // render writes YAML that its own loader reads back as the same JSON (cli/yaml_writer.h).
  const auto loaded = api::loadYaml(rendering.str(), "meshgatectl render output");
  if (!loaded.ok()) {
    err << loaded.error << '\n';
    result.renderCode = kRenderInputError;
    return result;
  }
  for (const auto& document : loaded.documents) {
    const std::string kind = document.value("kind", "");
    if (isChildKind(kind)) {
      result.objects.push_back(document);
    } else if ((kind == "MeshService" || kind == "ApiRoute") && document.contains("status")) {
      const auto& metadata = document.at("metadata");
      result.owners.push_back({kind, metadata.value("namespace", ""), metadata.value("name", ""),
                               !isInvalid(document["status"])});
    }
  }
  return result;
}

}  // namespace meshgate::cli
