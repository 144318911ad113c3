// SPIFFE IDs of workloads and the authorization rule of MeshServices.
#include "api/mesh_identity.h"

namespace meshgate::api {

namespace {
constexpr std::string_view kScheme = "spiffe://";
}

std::string spiffeId(const WorkloadIdentity& identity) {
  std::string id(kScheme);
  id.append(identity.trustDomain)
      .append("/ns/")
      .append(identity.namespace_)
      .append("/sa/")
      .append(identity.serviceAccount);
  return id;
}

std::optional<WorkloadIdentity> parseSpiffeId(std::string_view uri) {
  if (!uri.starts_with(kScheme)) return std::nullopt;
  uri.remove_prefix(kScheme.size());
  const size_t slash = uri.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  WorkloadIdentity identity{.trustDomain = std::string(uri.substr(0, slash))};
  std::string_view path = uri.substr(slash);
  if (!path.starts_with("/ns/")) return std::nullopt;
  path.remove_prefix(4);
  const size_t sa = path.find("/sa/");
  if (sa == std::string_view::npos || sa == 0) return std::nullopt;
  identity.namespace_ = std::string(path.substr(0, sa));
  const std::string_view account = path.substr(sa + 4);
  if (account.empty() || account.find('/') != std::string_view::npos ||
      identity.namespace_.find('/') != std::string::npos)
    return std::nullopt;
  identity.serviceAccount = std::string(account);
  return identity;
}

bool authorizationAdmits(const std::optional<std::vector<AuthorizationRule>>& allow,
                         std::string_view serviceNamespace, std::string_view trustDomain,
                         const WorkloadIdentity& caller) {
  if (caller.trustDomain != trustDomain) return false;
  if (!allow) return true;
  for (const auto& rule : *allow) {
    if (!rule.namespace_ && !rule.serviceAccount) continue;  // invalid; validation refuses it
    const std::string_view ns =
        rule.namespace_ ? std::string_view(*rule.namespace_) : serviceNamespace;
    if (caller.namespace_ != ns) continue;
    if (rule.serviceAccount && caller.serviceAccount != *rule.serviceAccount) continue;
    return true;
  }
  return false;
}

}  // namespace meshgate::api
