// DelayingQueue is a WorkQueue that can also add a key after a delay: reconcilers that return
// requeueAfter, and RateLimitingQueue's backoff, go through addAfter(). The delay runs on the
// injected Clock, so tests drive it with FakeClock.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>

#include "kube/work_queue.h"

namespace kube {

/**
 * Delayed keys wait in a time-ordered set that get() and len() consult; there is no timer
 * thread. A blocked get() sleeps on the clock until the earliest delay ends. If the same key is
 * delayed several times before it is due, the earliest time wins. Delayed keys are dropped at
 * shutdown. Thread-safe.
 */
class DelayingQueue : public WorkQueue {
 public:
  explicit DelayingQueue(Clock& clock, std::string name = "");

  // Adds key once delay has passed on the clock (at once if delay <= 0). Counts as a retry in the
  // metrics. Ignored after shutdown.
  void addAfter(const std::string& key, Clock::Duration delay);

 protected:
  // kube::WorkQueue
  void promoteReadyLocked() override;
  std::optional<Clock::TimePoint> nextReadyAtLocked() const override;
  void onShutDownLocked() override;

 private:
  // Both guarded by mutex_; byTime_ holds exactly the (readyAt, key) pairs of readyAt_.
  std::map<std::string, Clock::TimePoint> readyAt_;
  std::set<std::pair<Clock::TimePoint, std::string>> byTime_;
};
using DelayingQueuePtr = std::unique_ptr<DelayingQueue>;

}  // namespace kube
