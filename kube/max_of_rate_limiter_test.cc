// Tests for MaxOfRateLimiter and the default controller limiter built from it.
#include "kube/max_of_rate_limiter.h"

#include <gtest/gtest.h>

#include "kube/bucket_rate_limiter.h"
#include "kube/fake_clock.h"
#include "kube/item_exponential_backoff.h"

namespace kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(MaxOfRateLimiterTest, TakesLongestDelayAndForwardsForget) {
  std::vector<RateLimiterPtr> parts;
  parts.push_back(std::make_unique<ItemExponentialBackoff>(milliseconds(1), seconds(1)));
  parts.push_back(std::make_unique<ItemExponentialBackoff>(milliseconds(3), milliseconds(4)));
  MaxOfRateLimiter limiter(std::move(parts));
  EXPECT_EQ(limiter.when("k"), milliseconds(3));
  EXPECT_EQ(limiter.when("k"), milliseconds(4));
  EXPECT_EQ(limiter.when("k"), milliseconds(4));
  EXPECT_EQ(limiter.when("k"), milliseconds(8));  // the first part has overtaken the capped one
  EXPECT_EQ(limiter.numRequeues("k"), 4);
  limiter.forget("k");
  EXPECT_EQ(limiter.numRequeues("k"), 0);
  EXPECT_EQ(limiter.when("k"), milliseconds(3));
}

TEST(MaxOfRateLimiterTest, RejectsEmptyOrNullParts) {
  EXPECT_THROW(MaxOfRateLimiter({}), std::invalid_argument);
  std::vector<RateLimiterPtr> parts;
  parts.push_back(nullptr);
  EXPECT_THROW(MaxOfRateLimiter(std::move(parts)), std::invalid_argument);
}

TEST(BucketRateLimiterTest, DelaysOnceBurstIsSpentAndKeepsNoPerKeyState) {
  FakeClock clock;
  BucketRateLimiter limiter(clock, 10, 1);
  EXPECT_EQ(limiter.when("a"), Clock::Duration::zero());
  EXPECT_EQ(limiter.when("b"), milliseconds(100));
  EXPECT_EQ(limiter.numRequeues("a"), 0);
}

TEST(DefaultControllerRateLimiterTest, OverallBucketSlowsManyFailingKeys) {
  FakeClock clock;
  RateLimiterPtr limiter = defaultControllerRateLimiter(clock);
  // The burst of 100 covers 100 distinct keys; each still gets its own 5 ms backoff.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter->when("ns/key-" + std::to_string(i)), milliseconds(5)) << i;
  }
  // Then the bucket's 10 qps dominates.
  EXPECT_EQ(limiter->when("ns/key-100"), milliseconds(100));
  EXPECT_EQ(limiter->when("ns/key-101"), milliseconds(200));
}

TEST(DefaultControllerRateLimiterTest, SingleKeyBacksOffExponentially) {
  FakeClock clock;
  RateLimiterPtr limiter = defaultControllerRateLimiter(clock);
  EXPECT_EQ(limiter->when("ns/a"), milliseconds(5));
  EXPECT_EQ(limiter->when("ns/a"), milliseconds(10));
  EXPECT_EQ(limiter->when("ns/a"), milliseconds(20));
  EXPECT_EQ(limiter->numRequeues("ns/a"), 3);
  limiter->forget("ns/a");
  EXPECT_EQ(limiter->when("ns/a"), milliseconds(5));
}

}  // namespace
}  // namespace kube
