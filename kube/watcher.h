// Watcher turns a watch response stream into events, one at a time: next() blocks until an
// event arrives, the server ends the watch (its timeoutSeconds), or stop() is called from another
// thread. An ERROR event (e.g. 410 Expired) comes back as the ApiError it carries. Used by the
// Reflector; one Watcher serves one thread.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>

#include "kube/transport.h"
#include "kube/watch_event_decoder.h"

namespace kube {

class Watcher {
 public:
  Watcher(ResponseStreamPtr stream, std::chrono::milliseconds idleTimeout);

  // An event; std::nullopt when the server closed the watch cleanly.
  Result<std::optional<WatchEvent>> next();
  // Thread-safe; next() returns promptly with an isCancelled() error.
  void stop();

 private:
  ResponseStreamPtr stream_;
  std::chrono::milliseconds idleTimeout_;
  WatchEventDecoder decoder_;
  std::deque<WatchEvent> ready_;
};

}  // namespace kube
