// DelayingQueue: the waiting set keyed by ready time and its promotion into the work queue.
#include "kube/delaying_queue.h"

namespace kube {

DelayingQueue::DelayingQueue(Clock& clock, std::string name) : WorkQueue(clock, std::move(name)) {}

void DelayingQueue::addAfter(const std::string& key, Clock::Duration delay) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (shuttingDownLocked()) return;
  metrics_->recordRetry();
  if (delay <= Clock::Duration::zero()) {
    addLocked(key);
    return;
  }
  const Clock::TimePoint now = clock_.now();
  // Saturate so that an "effectively never" delay cannot overflow into the past.
  const Clock::TimePoint readyAt =
      delay < Clock::TimePoint::max() - now ? now + delay : Clock::TimePoint::max();
  auto [it, inserted] = readyAt_.try_emplace(key, readyAt);
  if (!inserted) {
    if (readyAt >= it->second) return;
    byTime_.erase({it->second, key});
    it->second = readyAt;
  }
  byTime_.emplace(readyAt, key);
  // A blocked get() may be sleeping towards a later deadline, or with none at all.
  ready_.notify_all();
}

void DelayingQueue::promoteReadyLocked() {
  if (byTime_.empty()) return;
  const Clock::TimePoint now = clock_.now();
  while (!byTime_.empty() && byTime_.begin()->first <= now) {
    auto node = byTime_.extract(byTime_.begin());
    readyAt_.erase(node.value().second);
    addLocked(node.value().second);
  }
}

std::optional<Clock::TimePoint> DelayingQueue::nextReadyAtLocked() const {
  if (byTime_.empty()) return std::nullopt;
  return byTime_.begin()->first;
}

void DelayingQueue::onShutDownLocked() {
  readyAt_.clear();
  byTime_.clear();
}

}  // namespace kube
