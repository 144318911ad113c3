// Semantic validation of an ApiRoute against docs/API.md: used by the validating webhook (deny
// with the error list), the operator (Accepted=False, reason Invalid) and meshgatectl. Returns
// every error, in field order, with the contract's exact messages; never throws. Cross-object
// rules (host conflicts, namespace host policy, backend existence) belong to the operator and
// the webhook's policy, not here.
#pragma once

#include "api/api_route.h"
#include "api/field_error.h"

namespace meshgate::api {

inline constexpr std::size_t kMaxHosts = 16;
inline constexpr std::size_t kMaxRules = 64;
inline constexpr std::size_t kMaxMatches = 16;
inline constexpr std::size_t kMaxValueMatches = 16;
inline constexpr std::size_t kMaxBackends = 16;
inline constexpr std::size_t kMaxHeaderModifications = 16;
inline constexpr std::size_t kMaxCorsOrigins = 64;
inline constexpr std::size_t kMaxCorsHeaders = 64;
inline constexpr std::size_t kMaxPathValueLength = 1024;
inline constexpr std::size_t kMaxHeaderValueLength = 4096;

// Validates a copy with the CRD schema defaults applied (api/schema_defaults.h), so an absent
// defaulted field is judged as its default.
ErrorList validateApiRoute(const ApiRoute& route);

}  // namespace meshgate::api
