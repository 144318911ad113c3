// The workload identity's readiness, /identity page and expiry gauge.
#include "dataplane/proxy/identity_status_pages.h"

#include <nlohmann/json.hpp>

#include "dataplane/proxy/rfc3339_time.h"

namespace meshgate::dp {

IdentityReadiness identityReadiness(const WorkloadIdentityStatus& status,
                                    std::chrono::system_clock::time_point now) {
  const WorkloadIdentitySharedPtr& identity = status.identity;
  const std::string refused = status.lastRejected.empty()
                                  ? ""
                                  : "; the files read last were refused: " + status.lastRejected;
  if (identity && now < identity->notAfter)
    return {true, "ready (workload identity " + identity->spiffeId + ", serial " +
                      identity->serialHex + ", valid until " + rfc3339(identity->notAfter) + ")"};
  if (identity)
    return {false, "workload identity " + identity->spiffeId + " (serial " + identity->serialHex +
                       ") expired at " + rfc3339(identity->notAfter) +
                       "; waiting for the operator to renew it" + refused};
  if (status.filesPresent) return {false, "no valid workload identity: " + status.lastRejected};
  return {true, "ready (no workload identity: no MeshService uses this service account)"};
}

metrics::Page identityPage(const WorkloadIdentityStatus& status) {
  nlohmann::json page;
  if (const WorkloadIdentitySharedPtr& identity = status.identity) {
    page = {{"spiffeId", identity->spiffeId},
            {"serial", identity->serialHex},
            {"notBefore", rfc3339(identity->notBefore)},
            {"notAfter", rfc3339(identity->notAfter)},
            {"loadedAt", rfc3339(identity->loadedAt)}};
  } else {
    page = {{"state", "none"}};
  }
  if (!status.lastRejected.empty()) page["lastRejected"] = status.lastRejected;
  return {.status = 200, .contentType = "application/json", .body = page.dump(2) + "\n"};
}

void writeIdentityExpiry(const WorkloadIdentityStatus& status, metrics::SampleWriter& writer) {
  if (!status.identity) return;
  writer.gauge("meshgate_proxy_identity_expiry_timestamp_seconds",
               "notAfter of the workload identity held, in Unix seconds (sidecar mode)", {},
               static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                       status.identity->notAfter.time_since_epoch())
                                       .count()));
}

}  // namespace meshgate::dp
