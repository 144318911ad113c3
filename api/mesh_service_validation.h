// Semantic validation of a MeshService against docs/API.md: used by the validating webhook (deny
// with the error list), the operator (Accepted=False, reason Invalid) and meshgatectl. Returns
// every error, in field order, with the contract's exact messages; never throws.
#pragma once

#include "api/field_error.h"
#include "api/mesh_service.h"

namespace meshgate::api {

inline constexpr std::size_t kMaxEndpoints = 1000;
inline constexpr std::size_t kMaxPorts = 64;
inline constexpr std::size_t kMaxAuthorizationRules = 256;
inline constexpr std::size_t kMaxSubsets = 64;

// Validates a copy with the CRD schema defaults applied (api/schema_defaults.h), so an absent
// defaulted field is judged as its default.
ErrorList validateMeshService(const MeshService& ms);

}  // namespace meshgate::api
