// JSON codec for metav1.Condition, shared by the status codecs of both kinds.
#pragma once

#include <nlohmann/json.hpp>

#include "api/condition.h"
#include "api/field_error.h"
#include "api/field_path.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Condition& out);
void to_json(nlohmann::json& j, const Condition& in);

}  // namespace meshgate::api
