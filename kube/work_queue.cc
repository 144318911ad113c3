// WorkQueue: the dirty/processing bookkeeping behind dedup and one-worker-per-key, and the
// two lanes that put first reconciles ahead.
#include "kube/work_queue.h"

namespace kube {

WorkQueue::WorkQueue(Clock& clock, std::string name)
    : clock_(clock), metrics_(std::make_shared<QueueMetrics>(std::move(name), clock)) {}

void WorkQueue::add(const std::string& key) {
  std::lock_guard<std::mutex> guard(mutex_);
  addLocked(key);
}

void WorkQueue::addLocked(const std::string& key) {
  if (shuttingDown_) return;
  if (!dirty_.insert(key).second) return;  // already pending: collapse
  metrics_->recordAdd(key);
  // A key held by a worker waits in dirty_ only; done() queues it.
  if (processing_.count(key) != 0) return;
  (handedOut_.count(key) == 0 ? firstQueue_ : queue_).push_back(key);
  ready_.notify_one();
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    promoteReadyLocked();
    if (!firstQueue_.empty() || !queue_.empty()) break;
    if (shuttingDown_) return std::nullopt;
    if (auto readyAt = nextReadyAtLocked()) {
      clock_.waitUntil(ready_, lock, *readyAt);
    } else {
      ready_.wait(lock);
    }
  }
  auto& lane = firstQueue_.empty() ? queue_ : firstQueue_;
  std::string key = std::move(lane.front());
  lane.pop_front();
  handedOut_.insert(key);
  dirty_.erase(key);
  processing_.insert(key);
  metrics_->recordGet(key);
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (processing_.erase(key) == 0) return;
  metrics_->recordDone(key);
  if (dirty_.count(key) != 0) {
    queue_.push_back(key);
    ready_.notify_one();
  }
  if (processing_.empty()) drained_.notify_all();
}

std::size_t WorkQueue::len() {
  std::lock_guard<std::mutex> guard(mutex_);
  promoteReadyLocked();
  return firstQueue_.size() + queue_.size();
}

void WorkQueue::shutDown() {
  std::lock_guard<std::mutex> guard(mutex_);
  shuttingDown_ = true;
  onShutDownLocked();
  ready_.notify_all();
}

void WorkQueue::shutDownWithDrain() {
  std::unique_lock<std::mutex> lock(mutex_);
  shuttingDown_ = true;
  onShutDownLocked();
  ready_.notify_all();
  drained_.wait(lock, [&] { return processing_.empty(); });
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return shuttingDown_;
}

}  // namespace kube
