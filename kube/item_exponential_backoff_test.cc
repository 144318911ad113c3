// Tests for ItemExponentialBackoff: 5 ms doubling to a 1000 s cap, per key, reset by forget().
#include "kube/item_exponential_backoff.h"

#include <gtest/gtest.h>

namespace kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ItemExponentialBackoffTest, DoublesFromFiveMillisecondsAndCapsAtThousandSeconds) {
  ItemExponentialBackoff backoff;
  Clock::Duration expected = milliseconds(5);
  for (int i = 0; i < 18; ++i) {
    EXPECT_EQ(backoff.when("ns/a"), expected) << "retry " << i;
    expected *= 2;
  }
  // 5 ms * 2^18 = 1310.72 s is past the cap.
  EXPECT_EQ(backoff.when("ns/a"), seconds(1000));
  for (int i = 0; i < 100; ++i)
    backoff.when("ns/a");
  EXPECT_EQ(backoff.when("ns/a"), seconds(1000));
  EXPECT_EQ(backoff.numRequeues("ns/a"), 120);
}

TEST(ItemExponentialBackoffTest, ForgetRestartsTheSequence) {
  ItemExponentialBackoff backoff;
  backoff.when("ns/a");
  backoff.when("ns/a");
  EXPECT_EQ(backoff.numRequeues("ns/a"), 2);
  backoff.forget("ns/a");
  EXPECT_EQ(backoff.numRequeues("ns/a"), 0);
  EXPECT_EQ(backoff.when("ns/a"), milliseconds(5));
}

TEST(ItemExponentialBackoffTest, KeysBackOffIndependently) {
  ItemExponentialBackoff backoff;
  EXPECT_EQ(backoff.when("ns/a"), milliseconds(5));
  EXPECT_EQ(backoff.when("ns/a"), milliseconds(10));
  EXPECT_EQ(backoff.when("ns/b"), milliseconds(5));
  EXPECT_EQ(backoff.numRequeues("ns/a"), 2);
  EXPECT_EQ(backoff.numRequeues("ns/b"), 1);
  EXPECT_EQ(backoff.numRequeues("ns/never"), 0);
}

TEST(ItemExponentialBackoffTest, CustomBaseAndCap) {
  ItemExponentialBackoff backoff(milliseconds(100), milliseconds(300));
  EXPECT_EQ(backoff.when("k"), milliseconds(100));
  EXPECT_EQ(backoff.when("k"), milliseconds(200));
  EXPECT_EQ(backoff.when("k"), milliseconds(300));
  EXPECT_THROW(ItemExponentialBackoff(milliseconds(0), seconds(1)), std::invalid_argument);
  EXPECT_THROW(ItemExponentialBackoff(seconds(2), seconds(1)), std::invalid_argument);
}

}  // namespace
}  // namespace kube
