// The CRD schema (structural) defaults of docs/API.md, the fields marked **default**. The
// apiserver applies them before the webhook and the operator see an object; the validators apply
// them to a copy so that offline validation (meshgatectl, tests) judges what the cluster would
// store. As with structural defaulting, a nested default applies only where its parent object is
// present (e.g. healthCheck.interval only when healthCheck is set).
#pragma once

#include <cstdint>
#include <string_view>

#include "api/api_route.h"
#include "api/mesh_service.h"

namespace meshgate::api {

inline constexpr std::int64_t kDefaultEndpointWeight = 1;
inline constexpr std::string_view kDefaultProtocol = "HTTP";
inline constexpr std::string_view kDefaultLbPolicy = "RoundRobin";
inline constexpr std::string_view kDefaultHealthCheckInterval = "10s";
inline constexpr std::string_view kDefaultHealthCheckTimeout = "1s";
inline constexpr std::int64_t kDefaultHealthyThreshold = 2;
inline constexpr std::int64_t kDefaultUnhealthyThreshold = 3;
inline constexpr std::int64_t kDefaultConsecutiveErrors = 5;
inline constexpr std::string_view kDefaultOutlierInterval = "10s";
inline constexpr std::string_view kDefaultBaseEjectionTime = "30s";
inline constexpr std::int64_t kDefaultMaxEjectionPercent = 10;
inline constexpr std::string_view kDefaultMtlsMode = "Permissive";
inline constexpr std::int64_t kDefaultRetryAttempts = 1;
inline constexpr std::string_view kDefaultBackoffBase = "25ms";
inline constexpr std::string_view kDefaultBackoffMax = "250ms";

inline constexpr std::string_view kDefaultIngressClassName = "meshgate";
inline constexpr bool kDefaultRedirectHTTP = false;
inline constexpr std::string_view kDefaultPathMatchType = "PathPrefix";
inline constexpr std::string_view kDefaultPathMatchValue = "/";
inline constexpr std::string_view kDefaultValueMatchType = "Exact";
inline constexpr std::int64_t kDefaultBackendWeight = 1;
inline constexpr std::int64_t kDefaultRedirectStatusCode = 302;
inline constexpr std::string_view kDefaultRateLimitKeyType = "ClientIP";
inline constexpr std::string_view kDefaultApiKeyHeader = "x-api-key";

// Fill every absent defaulted field; present fields are never changed.
void applySchemaDefaults(MeshService& ms);
void applySchemaDefaults(ApiRoute& route);
void applySchemaDefaults(Retries& retries);
void applySchemaDefaults(Auth& auth);

}  // namespace meshgate::api
