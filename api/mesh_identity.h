// Workload identities of the mesh and who may call whom — the one reading of a MeshService's
// `authorization.allow` that the operator (which MeshServices a sidecar may call) and the proxy
// (its inbound check on every mTLS connection) share. A SPIFFE ID is
// spiffe://<trust-domain>/ns/<namespace>/sa/<serviceAccount>. A rule with only `serviceAccount`
// names that account in the MeshService's own namespace (a reference without a namespace is
// local, as everywhere in Kubernetes); one with only `namespace` admits every account there.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/mesh_service.h"

namespace meshgate::api {

struct WorkloadIdentity {
  std::string trustDomain{};
  std::string namespace_{};
  std::string serviceAccount{};
  bool operator==(const WorkloadIdentity&) const = default;
};

std::string spiffeId(const WorkloadIdentity& identity);

// nullopt unless `uri` is exactly spiffe://<td>/ns/<ns>/sa/<sa> with three non-empty parts.
std::optional<WorkloadIdentity> parseSpiffeId(std::string_view uri);

// Whether `caller` may call a MeshService of `serviceNamespace` whose allow list is `allow`
// (nullopt: spec.authorization absent, any identity of `trustDomain` may; empty: nobody). A caller
// of another trust domain is never admitted.
bool authorizationAdmits(const std::optional<std::vector<AuthorizationRule>>& allow,
                         std::string_view serviceNamespace, std::string_view trustDomain,
                         const WorkloadIdentity& caller);

}  // namespace meshgate::api
