// JSON codec for ObjectMeta and OwnerReference, shared by the MeshService and ApiRoute codecs.
#pragma once

#include <nlohmann/json.hpp>

#include "api/field_error.h"
#include "api/field_path.h"
#include "api/object_meta.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                OwnerReference& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, ObjectMeta& out);
void to_json(nlohmann::json& j, const OwnerReference& in);
void to_json(nlohmann::json& j, const ObjectMeta& in);

}  // namespace meshgate::api
