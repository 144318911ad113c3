// Tests for RateLimitingQueue: retries back off per key, forget() resets, and the default limiter
// is used when none is given.
#include "kube/rate_limiting_queue.h"

#include <gtest/gtest.h>

#include "kube/fake_clock.h"
#include "kube/item_exponential_backoff.h"

namespace kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RateLimitingQueueTest, RetriesOfAKeyBackOffExponentially) {
  FakeClock clock;
  RateLimitingQueue queue(clock);
  queue.add("ns/a");
  ASSERT_EQ(queue.get(), "ns/a");
  queue.addRateLimited("ns/a");  // reconcile failed
  queue.done("ns/a");
  clock.advance(milliseconds(4));
  EXPECT_EQ(queue.len(), 0u);
  clock.advance(milliseconds(1));
  ASSERT_EQ(queue.get(), "ns/a");
  queue.addRateLimited("ns/a");
  queue.done("ns/a");
  clock.advance(milliseconds(9));
  EXPECT_EQ(queue.len(), 0u);
  clock.advance(milliseconds(1));
  EXPECT_EQ(queue.len(), 1u);
  EXPECT_EQ(queue.numRequeues("ns/a"), 2);
  EXPECT_EQ(queue.metrics()->snapshot().retriesTotal, 2u);
}

TEST(RateLimitingQueueTest, ForgetRestartsBackoff) {
  FakeClock clock;
  RateLimitingQueue queue(clock);
  queue.addRateLimited("ns/a");
  queue.addRateLimited("ns/a");
  queue.addRateLimited("ns/a");
  EXPECT_EQ(queue.numRequeues("ns/a"), 3);
  queue.forget("ns/a");
  EXPECT_EQ(queue.numRequeues("ns/a"), 0);
  clock.advance(milliseconds(5));  // the earliest (5 ms) of the three delays
  ASSERT_EQ(queue.get(), "ns/a");
  queue.done("ns/a");
  queue.addRateLimited("ns/a");
  clock.advance(milliseconds(5));
  EXPECT_EQ(queue.len(), 1u);
}

TEST(RateLimitingQueueTest, UsesTheGivenLimiter) {
  FakeClock clock;
  RateLimitingQueue queue(clock, std::make_unique<ItemExponentialBackoff>(seconds(2), seconds(60)),
                          "custom");
  queue.addRateLimited("ns/a");
  clock.advance(milliseconds(1999));
  EXPECT_EQ(queue.len(), 0u);
  clock.advance(milliseconds(1));
  EXPECT_EQ(queue.len(), 1u);
  EXPECT_EQ(queue.metrics()->name(), "custom");
}

}  // namespace
}  // namespace kube
