// JSON codec for MeshService: used by the webhook (AdmissionReview objects), the operator (watch
// events, status writes) and meshgatectl (YAML converted to JSON by api/yaml_loader.h). Decoding
// never throws: unknown fields are ignored and wrong JSON types come back as FieldErrors.
#pragma once

#include <nlohmann/json.hpp>

#include "api/decode_result.h"
#include "api/mesh_service.h"

namespace meshgate::api {

// Decodes a whole object (apiVersion, kind, metadata, spec, status). apiVersion and kind may be
// absent, but when present they must be meshgate.io/v1alpha1 and MeshService.
DecodeResult<MeshService> decodeMeshService(const nlohmann::json& j);

// Kubernetes-shaped JSON: apiVersion and kind set, absent optionals and empty status left out.
nlohmann::json encodeMeshService(const MeshService& in);
void to_json(nlohmann::json& j, const MeshService& in);

}  // namespace meshgate::api
