// Consecutive-error ejection with a lock-free request path.
#include "dataplane/upstream/outlier_detector.h"

#include <algorithm>

namespace meshgate::dp {
namespace {

size_t maxEjectedFor(size_t endpointCount, uint32_t maxEjectionPercent) {
  const size_t percent = std::min<uint32_t>(maxEjectionPercent, 100);
  if (percent == 0) return 0;
  return std::max<size_t>(endpointCount * percent / 100, 1);
}

// The multiplier at which the ejection time reaches its cap. Growing it further would only slow
// the decay back to the base.
uint32_t maxMultiplierFor(Clock::Duration base, Clock::Duration max) {
  if (base.count() <= 0) return 1;
  const auto steps = (max.count() + base.count() - 1) / base.count();
  return static_cast<uint32_t>(std::clamp<decltype(steps)>(steps, 1, UINT32_MAX));
}

}  // namespace

OutlierDetector::OutlierDetector(const OutlierConfig& config, size_t endpointCount,
                                 const Clock& clock)
    : threshold_(std::max<uint32_t>(config.consecutiveErrors, 1)),
      // A zero interval would divide by zero in the multiplier's decay; the API requires > 0.
      interval_(std::max<Clock::Duration>(config.interval, std::chrono::milliseconds(1))),
      baseEjectionTime_(config.baseEjectionTime),
      maxEjectionTime_(std::max<Clock::Duration>(config.maxEjectionTime, config.baseEjectionTime)),
      maxMultiplier_(maxMultiplierFor(baseEjectionTime_, maxEjectionTime_)),
      endpointCount_(endpointCount),
      maxEjected_(maxEjectedFor(endpointCount, config.maxEjectionPercent)),
      clock_(clock),
      endpoints_(std::make_unique<Endpoint[]>(endpointCount)) {}

void OutlierDetector::reportSuccess(size_t endpoint) {
  if (endpoint >= endpointCount_) return;
  auto& errors = endpoints_[endpoint].consecutiveErrors;
  // Most requests succeed on endpoints without errors: skip the store, which would take the
  // cache line away from the other workers.
  if (errors.load(std::memory_order_relaxed) != 0) errors.store(0, std::memory_order_relaxed);
}

void OutlierDetector::reportError(size_t endpoint) {
  if (endpoint >= endpointCount_) return;
  auto& state = endpoints_[endpoint];
  if (ejectedAt(state, clock_.now().time_since_epoch().count())) return;
  // fetch_add hands out every count once, so exactly one reporter reaches the threshold.
  if (state.consecutiveErrors.fetch_add(1, std::memory_order_relaxed) + 1 != threshold_) return;

  std::lock_guard lock(mutex_);
  // The run is used up whether or not the cap allows the ejection (as Envoy): a capped endpoint
  // needs another full run of errors.
  state.consecutiveErrors.store(0, std::memory_order_relaxed);
  const Ticks now = clock_.now().time_since_epoch().count();
  if (ejectedAt(state, now)) return;  // ejected by a reporter that held the lock before us
  // Exact under the lock: ejections happen only here, and expiries only lower the count.
  if (ejectedCountAt(now) >= maxEjected_) return;
  eject(state, now);
}

void OutlierDetector::eject(Endpoint& state, Ticks now) {
  const Ticks lastEnd = state.ejectedUntil.load(std::memory_order_relaxed);
  if (state.multiplier > 0 && now > lastEnd) {
    // One step back for every whole interval spent in rotation since the last ejection ended.
    const auto inRotation = static_cast<uint64_t>((now - lastEnd) / interval_.count());
    state.multiplier -= static_cast<uint32_t>(std::min<uint64_t>(inRotation, state.multiplier));
  }
  state.multiplier = std::min(state.multiplier + 1, maxMultiplier_);
  const Clock::Duration duration = std::min(baseEjectionTime_ * state.multiplier, maxEjectionTime_);
  state.timesEjected++;
  state.ejectedUntil.store(now + duration.count(), std::memory_order_relaxed);
}

bool OutlierDetector::ejectedAt(const Endpoint& state, Ticks now) {
  return now < state.ejectedUntil.load(std::memory_order_relaxed);
}

bool OutlierDetector::ejected(size_t endpoint) const {
  if (endpoint >= endpointCount_) return false;
  return ejectedAt(endpoints_[endpoint], clock_.now().time_since_epoch().count());
}

size_t OutlierDetector::ejectedCountAt(Ticks now) const {
  size_t count = 0;
  for (size_t i = 0; i < endpointCount_; i++)
    count += ejectedAt(endpoints_[i], now) ? 1 : 0;
  return count;
}

size_t OutlierDetector::ejectedCount() const {
  return ejectedCountAt(clock_.now().time_since_epoch().count());
}

OutlierEndpointStats OutlierDetector::stats(size_t endpoint) const {
  OutlierEndpointStats stats;
  if (endpoint >= endpointCount_) return stats;
  const auto& state = endpoints_[endpoint];
  const Ticks now = clock_.now().time_since_epoch().count();
  const Ticks until = state.ejectedUntil.load(std::memory_order_relaxed);
  stats.ejected = now < until;
  if (stats.ejected)
    stats.ejectedFor = std::chrono::ceil<std::chrono::milliseconds>(Clock::Duration{until - now});
  stats.consecutiveErrors = state.consecutiveErrors.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  stats.timesEjected = state.timesEjected;
  return stats;
}

}  // namespace meshgate::dp
