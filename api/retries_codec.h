// JSON codec for Retries, used by the MeshService codec (`spec.retries`) and the ApiRoute codec
// (`spec.rules[].retries`).
#pragma once

#include <nlohmann/json.hpp>

#include "api/field_error.h"
#include "api/field_path.h"
#include "api/retries.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Backoff& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Retries& out);
void to_json(nlohmann::json& j, const Backoff& in);
void to_json(nlohmann::json& j, const Retries& in);

}  // namespace meshgate::api
