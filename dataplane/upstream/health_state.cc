// Threshold state machine of active health checks.
#include "dataplane/upstream/health_state.h"

#include <algorithm>

namespace meshgate::dp {

HealthState::HealthState(uint32_t healthyThreshold, uint32_t unhealthyThreshold)
    : healthyThreshold_(std::max<uint32_t>(healthyThreshold, 1)),
      unhealthyThreshold_(std::max<uint32_t>(unhealthyThreshold, 1)) {}

HealthState::Transition HealthState::record(bool probeOk) {
  if (probeOk == healthy_) {
    streak_ = 0;
    return Transition::None;
  }
  streak_++;
  if (streak_ < (healthy_ ? unhealthyThreshold_ : healthyThreshold_)) return Transition::None;
  streak_ = 0;
  healthy_ = probeOk;
  return healthy_ ? Transition::BecameHealthy : Transition::BecameUnhealthy;
}

}  // namespace meshgate::dp
