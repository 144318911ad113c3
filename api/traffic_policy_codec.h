// JSON codec for the traffic-policy parts of a MeshService (load balancer and its hash key, health
// check, outlier detection, circuit breaker, subsets). Used by the MeshService codec for `spec.*`
// and by the proxy's config file codec (dataplane/config/) for `clusters[]`, which share them.
#pragma once

#include <nlohmann/json.hpp>

#include "api/field_error.h"
#include "api/field_path.h"
#include "api/mesh_service.h"

namespace meshgate::api {

void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, HashKey& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                LoadBalancer& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                HealthCheck& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                OutlierDetection& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors,
                CircuitBreaker& out);
void decodeInto(const nlohmann::json& j, const FieldPath& path, ErrorList& errors, Subset& out);

void to_json(nlohmann::json& j, const HashKey& in);
void to_json(nlohmann::json& j, const LoadBalancer& in);
void to_json(nlohmann::json& j, const HealthCheck& in);
void to_json(nlohmann::json& j, const OutlierDetection& in);
void to_json(nlohmann::json& j, const CircuitBreaker& in);
void to_json(nlohmann::json& j, const Subset& in);

}  // namespace meshgate::api
