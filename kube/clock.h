// Clock is the injectable source of time for the Kubernetes client: the work queue's delays,
// rate limiters, backoff, and leader election read time and wait through it, so tests can swap
// in FakeClock and drive time explicitly instead of sleeping. SystemClock is the production one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace kube {

/**
 * A monotonic clock for deadlines plus the wall clock for timestamps (lease renew times,
 * condition lastTransitionTime). Waiting goes through the clock because a fake clock must be
 * able to wake a thread blocked on a deadline when test time moves.
 * Implementations are thread-safe.
 */
class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTimePoint = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;

  virtual TimePoint now() const = 0;
  virtual WallTimePoint wallNow() const = 0;

  /**
   * Blocks on cv, releasing lock (which must be held), until cv is notified or this clock
   * reaches deadline; lock is held again on return. Like condition_variable::wait_until it may
   * wake spuriously, so callers re-check their condition in a loop.
   * @return std::cv_status::timeout iff the deadline has passed on this clock.
   */
  virtual std::cv_status waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                                   TimePoint deadline) = 0;

  /**
   * Waits until pred() holds or the deadline passes; returns pred() at that point.
   */
  template <class Predicate>
  bool waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline, Predicate pred) {
    while (!pred()) {
      if (waitUntil(cv, lock, deadline) == std::cv_status::timeout) return pred();
    }
    return true;
  }

  /**
   * Blocks the calling thread for d of this clock's time (e.g. the REST client honouring a
   * rate-limiter reservation). Not interruptible: threads that must stop early wait on their own
   * condition variable with waitUntil instead.
   */
  void sleepFor(Duration d);
};
using ClockPtr = std::unique_ptr<Clock>;

/**
 * The real clocks: std::chrono::steady_clock and system_clock.
 */
class SystemClock : public Clock {
 public:
  // kube::Clock
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTimePoint wallNow() const override { return std::chrono::system_clock::now(); }
  std::cv_status waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                           TimePoint deadline) override;
  using Clock::waitUntil;
};

}  // namespace kube
