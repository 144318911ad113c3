// What a sidecar's admin endpoint says of its workload identity: whether it lets the pod be Ready
// (a pod whose service account no MeshService uses has no identity Secret and is not held back;
// an identity that expired, or files that never checked, are unready), the /identity page and the
// expiry gauge. Pure functions of WorkloadIdentityWatcher's status.
#pragma once

#include <chrono>
#include <string>

#include "dataplane/proxy/workload_identity_watcher.h"
#include "metrics/probe_server.h"

namespace meshgate::dp {

struct IdentityReadiness {
  bool ready = false;
  std::string message;
};

IdentityReadiness identityReadiness(const WorkloadIdentityStatus& status,
                                    std::chrono::system_clock::time_point now);

// /identity: the identity held ({"spiffeId", "serial", "notBefore", "notAfter", "loadedAt"}) or
// {"state": "none"}, and "lastRejected" when the files read last were refused.
metrics::Page identityPage(const WorkloadIdentityStatus& status);

// meshgate_proxy_identity_expiry_timestamp_seconds, absent without an identity (so that an expiry
// alert does not fire on pods that have none).
void writeIdentityExpiry(const WorkloadIdentityStatus& status, metrics::SampleWriter& writer);

}  // namespace meshgate::dp
