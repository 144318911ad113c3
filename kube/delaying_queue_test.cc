// Tests for DelayingQueue: addAfter() on a FakeClock, earliest deadline wins, blocked get()
// wakes when the delay ends, delayed keys dropped at shutdown.
#include "kube/delaying_queue.h"

#include <thread>

#include <gtest/gtest.h>

#include "kube/fake_clock.h"

namespace kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(DelayingQueueTest, KeyBecomesReadyOnlyWhenDelayHasPassed) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/a", seconds(1));
  EXPECT_EQ(queue.len(), 0u);
  clock.advance(milliseconds(999));
  EXPECT_EQ(queue.len(), 0u);
  clock.advance(milliseconds(1));
  EXPECT_EQ(queue.len(), 1u);
  EXPECT_EQ(queue.get(), "ns/a");
}

TEST(DelayingQueueTest, NonPositiveDelayAddsAtOnce) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/a", Clock::Duration::zero());
  queue.addAfter("ns/b", milliseconds(-5));
  EXPECT_EQ(queue.len(), 2u);
}

TEST(DelayingQueueTest, BlockedGetWakesWhenDelayEnds) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/a", seconds(1));
  std::optional<std::string> got;
  std::thread worker([&] { got = queue.get(); });
  ASSERT_TRUE(clock.awaitWaiters(1));
  clock.advance(seconds(1));
  worker.join();
  EXPECT_EQ(got, "ns/a");
}

TEST(DelayingQueueTest, EarlierAddAfterWakesGetWaitingForLaterDeadline) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/late", seconds(10));
  std::optional<std::string> got;
  std::thread worker([&] { got = queue.get(); });
  ASSERT_TRUE(clock.awaitWaiters(1));
  queue.addAfter("ns/soon", seconds(1));
  clock.advance(seconds(1));
  worker.join();
  EXPECT_EQ(got, "ns/soon");
}

TEST(DelayingQueueTest, EarliestDeadlineWinsForTheSameKey) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/a", seconds(5));
  queue.addAfter("ns/a", seconds(1));
  queue.addAfter("ns/a", seconds(3));
  clock.advance(seconds(1));
  EXPECT_EQ(queue.len(), 1u);
  ASSERT_EQ(queue.get(), "ns/a");
  queue.done("ns/a");
  clock.advance(seconds(10));
  EXPECT_EQ(queue.len(), 0u) << "the superseded later deadlines must not fire";
}

TEST(DelayingQueueTest, DelayedKeysComeOutInDeadlineOrder) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/b", seconds(2));
  queue.addAfter("ns/c", seconds(3));
  queue.addAfter("ns/a", seconds(1));
  clock.advance(seconds(3));
  EXPECT_EQ(queue.get(), "ns/a");
  EXPECT_EQ(queue.get(), "ns/b");
  EXPECT_EQ(queue.get(), "ns/c");
}

TEST(DelayingQueueTest, DelayedKeyPendingAlreadyCollapses) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.add("ns/a");
  queue.addAfter("ns/a", seconds(1));
  clock.advance(seconds(1));
  EXPECT_EQ(queue.len(), 1u);
}

TEST(DelayingQueueTest, DelayedKeysAreDroppedAtShutDown) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/a", seconds(1));
  queue.shutDown();
  clock.advance(seconds(1));
  EXPECT_EQ(queue.get(), std::nullopt);
}

TEST(DelayingQueueTest, ShutDownWakesGetWaitingOnDeadline) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/a", seconds(1));
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = queue.get(); });
  ASSERT_TRUE(clock.awaitWaiters(1));
  queue.shutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  EXPECT_EQ(clock.waiterCount(), 0u);
}

TEST(DelayingQueueTest, AddAfterCountsAsRetry) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/a", seconds(1));
  queue.addAfter("ns/b", Clock::Duration::zero());
  EXPECT_EQ(queue.metrics()->snapshot().retriesTotal, 2u);
}

TEST(DelayingQueueTest, HugeDelayDoesNotOverflow) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.addAfter("ns/a", Clock::Duration::max());
  clock.advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(queue.len(), 0u);
}

}  // namespace
}  // namespace kube
