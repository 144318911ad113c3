// Validation of the traffic-policy parts of a MeshService (docs/API.md: loadBalancer,
// healthCheck, outlierDetection, circuitBreaker, subsets). Called by the MeshService validator for
// `spec.*` and by the proxy's config validator (dataplane/config/) for `clusters[]`, so both
// report the contract's exact messages. Absent defaulted fields count as their defaults.
#pragma once

#include <vector>

#include "api/field_error.h"
#include "api/field_path.h"
#include "api/mesh_service.h"

namespace meshgate::api {

void validateLoadBalancer(const LoadBalancer& lb, const FieldPath& path, ErrorList& errors);
void validateHealthCheck(const HealthCheck& hc, const FieldPath& path, ErrorList& errors);
void validateOutlierDetection(const OutlierDetection& od, const FieldPath& path, ErrorList& errors);
void validateCircuitBreaker(const CircuitBreaker& cb, const FieldPath& path, ErrorList& errors);
// Names are unique DNS labels, label maps non-empty and valid; at most kMaxSubsets.
void validateSubsets(const std::vector<Subset>& subsets, const FieldPath& path, ErrorList& errors);

}  // namespace meshgate::api
