// The `mesh` section of a ProxyConfig (what the operator streams to a sidecar;
// docs/PROXY_CONFIG.md, docs/MESH.md): its decoder and encoder, used by proxy_config_codec.cc.
#pragma once

#include <nlohmann/json.hpp>

#include "api/field_error.h"
#include "api/proxy_config.h"

namespace meshgate::api {

// Appends every error of `j` (with its path) to `errors`.
void decodeMesh(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, MeshConfig& out);

nlohmann::json encodeMesh(const MeshConfig& mesh);

}  // namespace meshgate::api
