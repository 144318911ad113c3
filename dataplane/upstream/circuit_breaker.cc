// Lock-free resource counters with RAII slots.
#include "dataplane/upstream/circuit_breaker.h"

#include <utility>

namespace meshgate::dp {

CircuitBreaker::Slot& CircuitBreaker::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    reset();
    breaker_ = std::exchange(other.breaker_, nullptr);
    resource_ = other.resource_;
  }
  return *this;
}

void CircuitBreaker::Slot::reset() {
  if (breaker_ != nullptr) std::exchange(breaker_, nullptr)->release(resource_);
}

CircuitBreaker::CircuitBreaker(const CircuitBreakerLimits& limits) {
  counter(Resource::Connections).limit = limits.maxConnections;
  counter(Resource::PendingRequests).limit = limits.maxPendingRequests;
  counter(Resource::Requests).limit = limits.maxRequests;
  counter(Resource::Retries).limit = limits.maxRetries;
}

std::optional<CircuitBreaker::Slot> CircuitBreaker::tryAcquire(Resource resource) {
  auto& c = counter(resource);
  uint32_t current = c.inUse.load(std::memory_order_relaxed);
  // Compare-and-swap rather than add-then-undo: an add past the limit, even if taken back at
  // once, would be seen by inUse() and could refuse a concurrent acquire that fits.
  do {
    if (current >= c.limit) {
      c.overflows.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
  } while (!c.inUse.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  return Slot(this, resource);
}

void CircuitBreaker::release(Resource resource) {
  counter(resource).inUse.fetch_sub(1, std::memory_order_relaxed);
}

size_t CircuitBreaker::inUse(Resource resource) const {
  return counter(resource).inUse.load(std::memory_order_relaxed);
}

uint32_t CircuitBreaker::limit(Resource resource) const {
  return counter(resource).limit;
}

uint64_t CircuitBreaker::overflows(Resource resource) const {
  return counter(resource).overflows.load(std::memory_order_relaxed);
}

}  // namespace meshgate::dp
