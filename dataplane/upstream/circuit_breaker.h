// Per-cluster circuit breaker (as Envoy's circuit_breakers thresholds): caps on what one upstream
// cluster may have open at once — connections, requests waiting for a connection, requests in
// flight, retries in flight — so that a slow or failing service fails fast at the proxy instead
// of piling up work everywhere. Over a cap, tryAcquire() fails and the proxy answers 503 (or does
// not retry); each refusal is counted for /stats. Shared by all workers (thread-safe, lock-free:
// a compare-and-swap per acquire, so a count never passes its limit even for an instant).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>

namespace meshgate::dp {

// MeshService spec.circuitBreaker, parsed; the defaults are the API's.
struct CircuitBreakerLimits {
  uint32_t maxConnections = 1024;
  uint32_t maxPendingRequests = 1024;
  uint32_t maxRequests = 1024;
  uint32_t maxRetries = 3;
};

class CircuitBreaker {
 public:
  enum class Resource { Connections, PendingRequests, Requests, Retries };
  static constexpr size_t kResourceCount = 4;

  // One unit of a resource, given back when the slot is destroyed or reset. Movable, not
  // copyable; the breaker must outlive its slots.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : breaker_(other.breaker_), resource_(other.resource_) {
      other.breaker_ = nullptr;
    }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { reset(); }

    // Gives the unit back now; afterwards the slot holds nothing.
    void reset();
    Resource resource() const { return resource_; }

   private:
    friend class CircuitBreaker;
    Slot(CircuitBreaker* breaker, Resource resource) : breaker_(breaker), resource_(resource) {}

    CircuitBreaker* breaker_;  // null once moved from or reset
    Resource resource_;
  };

  explicit CircuitBreaker(const CircuitBreakerLimits& limits = {});

  // A unit of `resource`, or nullopt (counted as an overflow) when it is at its limit.
  std::optional<Slot> tryAcquire(Resource resource);

  size_t inUse(Resource resource) const;
  uint32_t limit(Resource resource) const;
  // Refused acquisitions since the breaker was built.
  uint64_t overflows(Resource resource) const;

 private:
  struct alignas(64) Counter {  // a line each: the four are hammered by all workers
    uint32_t limit = 0;
    std::atomic<uint32_t> inUse{0};
    std::atomic<uint64_t> overflows{0};
  };

  void release(Resource resource);
  Counter& counter(Resource resource) { return counters_[static_cast<size_t>(resource)]; }
  const Counter& counter(Resource resource) const {
    return counters_[static_cast<size_t>(resource)];
  }

  std::array<Counter, kResourceCount> counters_;
};

}  // namespace meshgate::dp
