// Batches of keys flushed at most a window after their first mark; see coalescing_batcher.h.
#include "base/coalescing_batcher.h"

namespace meshgate {

CoalescingBatcher::CoalescingBatcher(std::chrono::milliseconds window, Flush flush)
    : window_(window), flush_(std::move(flush)), thread_([this] { run(); }) {}

CoalescingBatcher::~CoalescingBatcher() {
  stop();
}

void CoalescingBatcher::mark(const std::string& key) {
  std::lock_guard lock(mutex_);
  marked_.insert(key);
  if (firstMarkAt_) return;  // the pending flush takes this key too
  firstMarkAt_ = std::chrono::steady_clock::now();
  wake_.notify_all();
}

void CoalescingBatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CoalescingBatcher::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait(lock, [&] { return stopping_ || firstMarkAt_.has_value(); });
    if (stopping_) break;
    if (wake_.wait_until(lock, *firstMarkAt_ + window_, [&] { return stopping_; })) break;
    std::set<std::string> keys;
    keys.swap(marked_);
    firstMarkAt_.reset();
    lock.unlock();
    flush_(keys);
    lock.lock();
  }
}

}  // namespace meshgate
