// CoalescingBatcher: collects keys marked from any thread and hands them to one callback, in a
// batch, at most `window` after the first mark of the batch, on a thread of its own. A flood of
// events about the same few keys (an ACK from each of 1,000 proxies, all about one ingress class)
// becomes one call per window instead of one per event.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace meshgate {

class CoalescingBatcher {
 public:
  using Flush = std::function<void(const std::set<std::string>& keys)>;

  // The thread starts at once; `flush` runs on it, never concurrently with itself.
  CoalescingBatcher(std::chrono::milliseconds window, Flush flush);
  // Flushes nothing more: what is marked and not yet flushed is dropped.
  ~CoalescingBatcher();
  CoalescingBatcher(const CoalescingBatcher&) = delete;
  CoalescingBatcher& operator=(const CoalescingBatcher&) = delete;

  // Cheap, non-blocking (beyond a short lock), any thread.
  void mark(const std::string& key);
  // Ends the thread after the flush in progress, if any. Idempotent.
  void stop();

 private:
  void run();

  const std::chrono::milliseconds window_;
  const Flush flush_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::set<std::string> marked_;
  std::optional<std::chrono::steady_clock::time_point> firstMarkAt_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace meshgate
