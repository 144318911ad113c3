// SystemClock and the Clock helpers built on waitUntil.
#include "kube/clock.h"

namespace kube {

void Clock::sleepFor(Duration d) {
  if (d <= Duration::zero()) return;
  // A private condition variable that nobody notifies: only the deadline ends the wait.
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mutex);
  const TimePoint deadline = now() + d;
  while (waitUntil(cv, lock, deadline) != std::cv_status::timeout) {
  }
}

std::cv_status SystemClock::waitUntil(std::condition_variable& cv,
                                      std::unique_lock<std::mutex>& lock, TimePoint deadline) {
  // wait_until on a steady_clock deadline uses pthread_cond_clockwait, so wall-clock jumps do
  // not shorten or stretch the wait.
  return cv.wait_until(lock, deadline);
}

}  // namespace kube
