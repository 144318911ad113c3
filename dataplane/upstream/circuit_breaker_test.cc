// Circuit breaker: exact limits, release on destruction, moves, overflow counts, and the limit
// holding under four threads acquiring and releasing at once.
#include "dataplane/upstream/circuit_breaker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace meshgate::dp {
namespace {

using Resource = CircuitBreaker::Resource;

TEST(CircuitBreakerTest, DefaultsAreTheApis) {
  const CircuitBreaker breaker;
  EXPECT_EQ(breaker.limit(Resource::Connections), 1024u);
  EXPECT_EQ(breaker.limit(Resource::PendingRequests), 1024u);
  EXPECT_EQ(breaker.limit(Resource::Requests), 1024u);
  EXPECT_EQ(breaker.limit(Resource::Retries), 3u);
}

TEST(CircuitBreakerTest, LimitIsExactAndReleaseFrees) {
  CircuitBreaker breaker;
  std::vector<CircuitBreaker::Slot> held;
  for (int i = 0; i < 3; i++) {
    auto slot = breaker.tryAcquire(Resource::Retries);
    ASSERT_TRUE(slot.has_value());
    held.push_back(std::move(*slot));
  }
  EXPECT_EQ(breaker.inUse(Resource::Retries), 3u);
  EXPECT_FALSE(breaker.tryAcquire(Resource::Retries).has_value());
  EXPECT_FALSE(breaker.tryAcquire(Resource::Retries).has_value());
  EXPECT_EQ(breaker.overflows(Resource::Retries), 2u);
  EXPECT_EQ(breaker.inUse(Resource::Requests), 0u);  // resources are separate

  held.pop_back();
  EXPECT_EQ(breaker.inUse(Resource::Retries), 2u);
  EXPECT_TRUE(breaker.tryAcquire(Resource::Retries).has_value());  // a temporary: freed at once
  EXPECT_EQ(breaker.inUse(Resource::Retries), 2u);
  held.clear();
  EXPECT_EQ(breaker.inUse(Resource::Retries), 0u);
}

TEST(CircuitBreakerTest, MovedSlotsReleaseOnce) {
  CircuitBreakerLimits limits;
  limits.maxConnections = 2;
  CircuitBreaker breaker(limits);
  auto a = *breaker.tryAcquire(Resource::Connections);
  auto b = *breaker.tryAcquire(Resource::Connections);
  EXPECT_EQ(breaker.inUse(Resource::Connections), 2u);
  {
    CircuitBreaker::Slot moved(std::move(a));
    EXPECT_EQ(breaker.inUse(Resource::Connections), 2u);
  }
  EXPECT_EQ(breaker.inUse(Resource::Connections), 1u);
  b = std::move(b);  // self-move keeps the unit
  EXPECT_EQ(breaker.inUse(Resource::Connections), 1u);
  auto c = *breaker.tryAcquire(Resource::Connections);
  c = std::move(b);  // c gives its own unit back and takes b's
  EXPECT_EQ(breaker.inUse(Resource::Connections), 1u);
  c.reset();
  c.reset();
  EXPECT_EQ(breaker.inUse(Resource::Connections), 0u);
}

// Four threads acquire and release as fast as they can. Every thread counts what it holds into
// `held` after a slot is acquired and before it is released, so `held` never exceeds the breaker's
// own count: if it ever passed the limit, so did the breaker.
TEST(CircuitBreakerTest, ConcurrentAcquireNeverPassesTheLimit) {
  CircuitBreakerLimits limits;
  limits.maxRequests = 10;
  CircuitBreaker breaker(limits);
  std::atomic<uint32_t> held{0}, mostHeld{0};
  std::atomic<uint64_t> acquired{0};
  constexpr int kThreads = 4, kRounds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      std::vector<CircuitBreaker::Slot> mine;
      for (int i = 0; i < kRounds; i++) {
        if (auto slot = breaker.tryAcquire(Resource::Requests)) {
          acquired.fetch_add(1);
          const uint32_t now = held.fetch_add(1) + 1;
          uint32_t seen = mostHeld.load();
          while (now > seen && !mostHeld.compare_exchange_weak(seen, now)) {
          }
          EXPECT_LE(breaker.inUse(Resource::Requests), 10u);
          mine.push_back(std::move(*slot));
        }
        // Hold up to 1–4 slots (differently per thread), then give them all back.
        if (mine.size() > static_cast<size_t>(t) || (i % 5 == 0 && !mine.empty())) {
          held.fetch_sub(static_cast<uint32_t>(mine.size()));
          mine.clear();
        }
      }
      held.fetch_sub(static_cast<uint32_t>(mine.size()));
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_LE(mostHeld.load(), 10u);
  EXPECT_EQ(breaker.inUse(Resource::Requests), 0u);
  EXPECT_EQ(acquired.load() + breaker.overflows(Resource::Requests),
            static_cast<uint64_t>(kThreads) * kRounds);
}

}  // namespace
}  // namespace meshgate::dp
