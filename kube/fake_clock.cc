// FakeClock: waiter bookkeeping that lets advance() wake deadline waiters without lost wakeups.
//
// Lock order is waiter mutex -> FakeClock::mutex_ (waitUntil registers while holding the caller's
// lock). advance() therefore collects due waiters under mutex_, releases it, and only then takes
// each waiter's own mutex to notify it; holding that mutex while notifying is what prevents a
// lost wakeup between registration and cv.wait(). A fired waiter does not return until advance()
// has notified it, so the mutex and condition variable it lent are alive while advance() uses
// them.
#include "kube/fake_clock.h"

#include <algorithm>
#include <stdexcept>

namespace kube {

namespace {
// 2024-01-01T00:00:00Z.
constexpr std::chrono::seconds kDefaultWallStart{1704067200};
// Far from the epoch so that "time zero" is never a meaningful value in tests.
constexpr std::chrono::hours kSteadyStart{1000};
}  // namespace

FakeClock::FakeClock() : FakeClock(WallTimePoint(kDefaultWallStart)) {}

FakeClock::FakeClock(WallTimePoint wallStart)
    : now_(TimePoint(kSteadyStart)), wallNow_(wallStart) {}

Clock::TimePoint FakeClock::now() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return now_;
}

Clock::WallTimePoint FakeClock::wallNow() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return wallNow_;
}

std::cv_status FakeClock::waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                                    TimePoint deadline) {
  auto waiter = std::make_shared<Waiter>(Waiter{&cv, lock.mutex(), deadline});
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (now_ >= deadline) return std::cv_status::timeout;
    waiters_.push_back(waiter);
  }
  waitersChanged_.notify_all();

  cv.wait(lock);

  bool fired;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    fired = waiter->fired;
    if (!fired) {
      // Woken by the owner's notify (or spuriously) before the deadline.
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), waiter));
    }
  }
  if (!fired) {
    waitersChanged_.notify_all();
    return std::cv_status::no_timeout;
  }
  cv.wait(lock, [&] { return waiter->notified; });
  return std::cv_status::timeout;
}

void FakeClock::advance(Duration d) {
  if (d < Duration::zero()) throw std::invalid_argument("FakeClock::advance: negative duration");
  std::vector<std::shared_ptr<Waiter>> due;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    now_ += d;
    wallNow_ += std::chrono::duration_cast<WallTimePoint::duration>(d);
    auto firstDue = std::stable_partition(waiters_.begin(), waiters_.end(),
                                          [&](const auto& w) { return w->deadline > now_; });
    for (auto it = firstDue; it != waiters_.end(); ++it) {
      (*it)->fired = true;
      due.push_back(*it);
    }
    waiters_.erase(firstDue, waiters_.end());
  }
  if (!due.empty()) waitersChanged_.notify_all();
  for (const auto& waiter : due) {
    std::lock_guard<std::mutex> guard(*waiter->mutex);
    waiter->notified = true;
    waiter->cv->notify_all();
  }
}

std::size_t FakeClock::waiterCount() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return waiters_.size();
}

bool FakeClock::awaitWaiters(std::size_t n, std::chrono::milliseconds realTimeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return waitersChanged_.wait_for(lock, realTimeout, [&] { return waiters_.size() >= n; });
}

}  // namespace kube
