// StopToken: what a long start-up step (a bootstrap that retries, a wait for caches) checks to
// give up promptly when its owner is stopping. Handed out by kube::Manager; waits end as soon as
// stop is requested, never after a fixed poll.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace kube {

class StopToken {
 public:
  // `stopping` is evaluated under `mutex`; whoever makes it true notifies `cv`.
  StopToken(std::mutex& mutex, std::condition_variable& cv, std::function<bool()> stopping)
      : mutex_(mutex), cv_(cv), stopping_(std::move(stopping)) {}

  bool requested() const {
    std::lock_guard lock(mutex_);
    return stopping_();
  }
  // Waits `duration`, or less when stop is requested; true when it was.
  bool waitFor(std::chrono::milliseconds duration) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, duration, stopping_);
  }

 private:
  std::mutex& mutex_;
  std::condition_variable& cv_;
  std::function<bool()> stopping_;
};

}  // namespace kube
