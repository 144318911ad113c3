// FakeClock is the Clock for unit tests: time stands still until the test calls advance(), which
// wakes every thread blocked in waitUntil() whose deadline has been reached. Used by the work
// queue, rate limiter, backoff and leader election tests instead of real sleeps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "kube/clock.h"

namespace kube {

/**
 * A manually driven Clock. All methods are thread-safe: the test thread advances time while
 * worker threads wait on it.
 */
class FakeClock : public Clock {
 public:
  // Starts the wall clock at 2024-01-01T00:00:00Z; the steady clock at an arbitrary fixed point.
  FakeClock();
  explicit FakeClock(WallTimePoint wallStart);

  // kube::Clock
  TimePoint now() const override;
  WallTimePoint wallNow() const override;
  std::cv_status waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                           TimePoint deadline) override;
  using Clock::waitUntil;

  /**
   * Moves both clocks forward by d (d >= 0, else std::invalid_argument) and wakes the waiters
   * whose deadline is now reached. Returns after each of them has been notified. Must not be
   * called while holding a mutex that a waiter passed to waitUntil().
   */
  void advance(Duration d);

  // Number of threads currently blocked in waitUntil() with a deadline still in the future.
  std::size_t waiterCount() const;

  /**
   * Blocks for at most realTimeout of real time until at least n threads wait on this clock, so
   * a test knows a worker is parked on its deadline before advancing. Returns whether they are.
   */
  bool awaitWaiters(std::size_t n,
                    std::chrono::milliseconds realTimeout = std::chrono::seconds(5)) const;

 private:
  struct Waiter {
    std::condition_variable* cv;
    std::mutex* mutex;
    TimePoint deadline;
    bool fired = false;     // guarded by FakeClock::mutex_: advance() took it off waiters_
    bool notified = false;  // guarded by *mutex: advance() has notified cv
  };

  mutable std::mutex mutex_;
  mutable std::condition_variable waitersChanged_;
  TimePoint now_;
  WallTimePoint wallNow_;
  std::vector<std::shared_ptr<Waiter>> waiters_;
};
using FakeClockPtr = std::unique_ptr<FakeClock>;

}  // namespace kube
