// Tests for TokenBucket: burst first, then refill at qps, on a FakeClock.
#include "kube/token_bucket.h"

#include <gtest/gtest.h>

#include "kube/fake_clock.h"

namespace kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(TokenBucketTest, AllowsBurstThenOneTokenPerInterval) {
  FakeClock clock;
  TokenBucket bucket(clock, 10, 3);
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_FALSE(bucket.tryAccept());
  clock.advance(milliseconds(99));
  EXPECT_FALSE(bucket.tryAccept());
  clock.advance(milliseconds(1));
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_FALSE(bucket.tryAccept());
}

TEST(TokenBucketTest, RefillIsCappedAtBurst) {
  FakeClock clock;
  TokenBucket bucket(clock, 10, 2);
  clock.advance(seconds(60));
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_FALSE(bucket.tryAccept());
}

TEST(TokenBucketTest, ReserveReturnsWaitForQueuedTokens) {
  FakeClock clock;
  TokenBucket bucket(clock, 10, 2);
  EXPECT_EQ(bucket.reserve(), Clock::Duration::zero());
  EXPECT_EQ(bucket.reserve(), Clock::Duration::zero());
  EXPECT_EQ(bucket.reserve(), milliseconds(100));
  EXPECT_EQ(bucket.reserve(), milliseconds(200));
  clock.advance(milliseconds(200));
  EXPECT_EQ(bucket.reserve(), milliseconds(100));
}

TEST(TokenBucketTest, ReservedTokensAreNotAvailableToTryAccept) {
  FakeClock clock;
  TokenBucket bucket(clock, 10, 1);
  EXPECT_EQ(bucket.reserve(), Clock::Duration::zero());
  EXPECT_EQ(bucket.reserve(), milliseconds(100));
  EXPECT_FALSE(bucket.tryAccept());
  clock.advance(milliseconds(100));
  EXPECT_FALSE(bucket.tryAccept());  // that token belongs to the second reservation
  clock.advance(milliseconds(100));
  EXPECT_TRUE(bucket.tryAccept());
}

TEST(TokenBucketTest, FractionalQpsRefillsSlowly) {
  FakeClock clock;
  TokenBucket bucket(clock, 0.5, 1);
  EXPECT_TRUE(bucket.tryAccept());
  clock.advance(milliseconds(1999));
  EXPECT_FALSE(bucket.tryAccept());
  clock.advance(milliseconds(1));
  EXPECT_TRUE(bucket.tryAccept());
}

TEST(TokenBucketTest, RejectsInvalidRates) {
  FakeClock clock;
  EXPECT_THROW(TokenBucket(clock, 0, 1), std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, -1, 1), std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, std::numeric_limits<double>::infinity(), 1),
               std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, std::numeric_limits<double>::quiet_NaN(), 1),
               std::invalid_argument);
  EXPECT_THROW(TokenBucket(clock, 10, 0), std::invalid_argument);
}

}  // namespace
}  // namespace kube
