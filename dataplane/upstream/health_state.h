// Active health checking: turns one endpoint's probe results into healthy / unhealthy with
// hysteresis, so that one lost probe does not pull an endpoint and one lucky probe does not bring
// it back. `unhealthyThreshold` failures in a row make a healthy endpoint unhealthy;
// `healthyThreshold` successes in a row make an unhealthy one healthy (MeshService
// spec.healthCheck: defaults 2 and 3). Owned by the health checker, one per endpoint (not
// thread-safe); the balancers read the outcome it publishes.
#pragma once

#include <cstdint>

namespace meshgate::dp {

class HealthState {
 public:
  enum class Transition { None, BecameHealthy, BecameUnhealthy };

  // A threshold of 0 counts as 1.
  HealthState(uint32_t healthyThreshold, uint32_t unhealthyThreshold);

  // Records one probe and says whether it changed the state.
  Transition record(bool probeOk);

  // A new endpoint starts healthy. Endpoints come from Kubernetes only once the kubelet's
  // readiness probe passed (or from a MeshService's static list, which the owner vouches for),
  // so traffic may flow at once. Starting unhealthy would instead hold every new endpoint — and a
  // whole new service, or every service after a proxy restart — out of rotation until
  // healthyThreshold probes passed: 20 s at the default interval.
  bool healthy() const { return healthy_; }

 private:
  uint32_t healthyThreshold_;
  uint32_t unhealthyThreshold_;
  bool healthy_ = true;
  // Probes in a row agreeing with the opposite of the current state; reset by a probe that agrees
  // with it.
  uint32_t streak_ = 0;
};

}  // namespace meshgate::dp
