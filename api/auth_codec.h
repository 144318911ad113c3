// JSON codec for Auth (and its parts), used by the ApiRoute codec for `spec.auth` and
// `spec.rules[].auth`.
#pragma once

#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/field_error.h"
#include "api/field_path.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                SecretKeyRef& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Jwks& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                ClaimHeader& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, JwtAuth& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, ApiKeyAuth& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Auth& out);

void to_json(nlohmann::json& j, const SecretKeyRef& in);
void to_json(nlohmann::json& j, const Jwks& in);
void to_json(nlohmann::json& j, const ClaimHeader& in);
void to_json(nlohmann::json& j, const JwtAuth& in);
void to_json(nlohmann::json& j, const ApiKeyAuth& in);
void to_json(nlohmann::json& j, const Auth& in);

}  // namespace meshgate::api
