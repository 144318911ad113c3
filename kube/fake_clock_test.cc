// Tests for FakeClock: time moves only on advance(), which wakes exactly the due waiters.
#include "kube/fake_clock.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(FakeClockTest, TimeMovesOnlyOnAdvance) {
  FakeClock clock;
  const auto start = clock.now();
  const auto wallStart = clock.wallNow();
  EXPECT_EQ(clock.now(), start);
  clock.advance(seconds(3));
  EXPECT_EQ(clock.now() - start, seconds(3));
  EXPECT_EQ(clock.wallNow() - wallStart, seconds(3));
}

TEST(FakeClockTest, AdvanceRejectsNegativeDuration) {
  FakeClock clock;
  EXPECT_THROW(clock.advance(milliseconds(-1)), std::invalid_argument);
}

TEST(FakeClockTest, WaitWithPassedDeadlineTimesOutAtOnce) {
  FakeClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mutex);
  EXPECT_EQ(clock.waitUntil(cv, lock, clock.now()), std::cv_status::timeout);
  EXPECT_EQ(clock.waiterCount(), 0u);
}

TEST(FakeClockTest, AdvanceWakesWaiterOnlyOnceDeadlinePassed) {
  FakeClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<bool> returned{false};
  const auto deadline = clock.now() + seconds(1);
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mutex);
    EXPECT_FALSE(clock.waitUntil(cv, lock, deadline, [] { return false; }));
    returned = true;
  });
  ASSERT_TRUE(clock.awaitWaiters(1));
  clock.advance(milliseconds(999));
  EXPECT_FALSE(returned);
  clock.advance(milliseconds(1));
  waiter.join();
  EXPECT_TRUE(returned);
  EXPECT_EQ(clock.waiterCount(), 0u);
}

TEST(FakeClockTest, NotifyEndsWaitBeforeDeadline) {
  FakeClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  bool flag = false;
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mutex);
    EXPECT_TRUE(clock.waitUntil(cv, lock, clock.now() + seconds(10), [&] { return flag; }));
  });
  ASSERT_TRUE(clock.awaitWaiters(1));
  {
    std::lock_guard<std::mutex> guard(mutex);
    flag = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_EQ(clock.waiterCount(), 0u);
}

TEST(FakeClockTest, AdvanceWakesOnlyWaitersThatAreDue) {
  FakeClock clock;
  std::mutex mutex;
  std::condition_variable cv;
  std::atomic<int> woken{0};
  auto waitFor = [&](Clock::Duration d) {
    std::unique_lock<std::mutex> lock(mutex);
    clock.waitUntil(cv, lock, clock.now() + d, [] { return false; });
    ++woken;
  };
  std::thread soon(waitFor, seconds(1));
  std::thread late(waitFor, seconds(5));
  ASSERT_TRUE(clock.awaitWaiters(2));
  clock.advance(seconds(2));
  soon.join();
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(clock.waiterCount(), 1u);
  clock.advance(seconds(3));
  late.join();
  EXPECT_EQ(woken, 2);
}

TEST(FakeClockTest, SleepForReturnsWhenTimeIsAdvanced) {
  FakeClock clock;
  std::atomic<bool> returned{false};
  std::thread sleeper([&] {
    clock.sleepFor(milliseconds(500));
    returned = true;
  });
  ASSERT_TRUE(clock.awaitWaiters(1));
  clock.advance(milliseconds(499));
  EXPECT_FALSE(returned);
  clock.advance(milliseconds(1));
  sleeper.join();
  EXPECT_TRUE(returned);
}

TEST(FakeClockTest, AwaitWaitersTimesOutWhenNobodyWaits) {
  FakeClock clock;
  EXPECT_FALSE(clock.awaitWaiters(1, milliseconds(1)));
}

}  // namespace
}  // namespace kube
