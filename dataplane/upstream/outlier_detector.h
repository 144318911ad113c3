// Passive outlier detection for one cluster (as Envoy's consecutive-5xx detector): the proxy
// reports how each request to an endpoint ended, and an endpoint with `consecutiveErrors`
// failures in a row is ejected — the balancers skip it — for a while. The proxy reports an error
// for a 5xx response and for the failures it would answer with one itself: connect failure,
// reset, timeout. Shared by all workers of the proxy (thread-safe): reportSuccess() and
// ejected(), on every request, are lock-free; the mutex is taken only when an endpoint reaches
// the error threshold. One detector per endpoint set: when the set changes the proxy builds a
// new one (endpoints are indices). The clock is injected.
//
// Ejection time: baseEjectionTime × the endpoint's ejection multiplier, capped at
// max(maxEjectionTime, baseEjectionTime). The multiplier grows by one at each ejection and drops
// by one for every whole `interval` the endpoint has since spent in rotation, so an endpoint that
// keeps failing stays out longer each time (30 s, 60 s, 90 s, …, 300 s) and one that recovered
// starts again from the base — Envoy's rule, which it applies at its interval sweep. An ejection
// ends exactly at its time: ejected() compares the clock with the end rather than waiting for a
// sweep.
//
// At most maxEjectionPercent of the endpoints are ejected at once, rounded down — but at least
// one whenever the percent is above 0, so that the default 10% still protects a cluster of fewer
// than ten endpoints (as Envoy, which ejects while the ejected share is below the percent). With
// a single endpoint that one may be ejected: choosing what to do when no endpoint is left (Envoy
// "panics" and ignores health) is the balancing layer's job. maxEjectionPercent 0 turns ejection
// off.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>

#include "dataplane/upstream/clock.h"

namespace meshgate::dp {

// MeshService spec.outlierDetection, parsed; the defaults are the API's.
struct OutlierConfig {
  uint32_t consecutiveErrors = 5;  // 0 counts as 1
  std::chrono::milliseconds interval{10'000};
  std::chrono::milliseconds baseEjectionTime{30'000};
  uint32_t maxEjectionPercent = 10;                    // above 100 counts as 100
  std::chrono::milliseconds maxEjectionTime{300'000};  // Envoy's default; not in the API
};

// What the admin /stats page shows per endpoint.
struct OutlierEndpointStats {
  bool ejected = false;
  uint32_t consecutiveErrors = 0;
  uint64_t timesEjected = 0;                // since the detector was built
  std::chrono::milliseconds ejectedFor{0};  // time left of the current ejection, 0 if none
};

class OutlierDetector {
 public:
  // `clock` must outlive the detector.
  OutlierDetector(const OutlierConfig& config, size_t endpointCount, const Clock& clock);

  // A response below 500. Resets the endpoint's run of errors: one atomic load, and a store only
  // when the run was not already 0. Out-of-range endpoints are ignored (as by every method).
  void reportSuccess(size_t endpoint);
  // A 5xx response, connect failure, reset or timeout. Ejects at the threshold when the cap
  // allows; errors reported while the endpoint is ejected (requests already in flight) do not
  // count towards the next ejection.
  void reportError(size_t endpoint);

  // Lock-free: compares the clock with the endpoint's ejection end.
  bool ejected(size_t endpoint) const;
  // Endpoints ejected now (a scan, lock-free).
  size_t ejectedCount() const;
  // The cap from maxEjectionPercent.
  size_t maxEjected() const { return maxEjected_; }
  size_t endpointCount() const { return endpointCount_; }

  OutlierEndpointStats stats(size_t endpoint) const;

 private:
  using Ticks = Clock::TimePoint::rep;

  // One cache line each: every worker writes the error counters, and neighbours should not
  // invalidate each other's line.
  struct alignas(64) Endpoint {
    std::atomic<uint32_t> consecutiveErrors{0};
    // When the last ejection ends (or ended), in steady-clock ticks; the minimum if never ejected.
    std::atomic<Ticks> ejectedUntil{std::numeric_limits<Ticks>::min()};
    // Guarded by mutex_.
    uint32_t multiplier = 0;
    uint64_t timesEjected = 0;
  };

  static bool ejectedAt(const Endpoint& endpoint, Ticks now);
  size_t ejectedCountAt(Ticks now) const;
  // Under mutex_: ejects `endpoint` from `now` and works out for how long.
  void eject(Endpoint& endpoint, Ticks now);

  const uint32_t threshold_;
  const Clock::Duration interval_;
  const Clock::Duration baseEjectionTime_;
  const Clock::Duration maxEjectionTime_;
  const uint32_t maxMultiplier_;
  const size_t endpointCount_;
  const size_t maxEjected_;
  const Clock& clock_;
  std::unique_ptr<Endpoint[]> endpoints_;
  mutable std::mutex mutex_;  // the ejection decision: the cap must see every other ejection
};

}  // namespace meshgate::dp
