// Watcher: pulls bytes from the stream into the decoder until an event is complete.
#include "kube/watcher.h"

#include <vector>

namespace kube {

Watcher::Watcher(ResponseStreamPtr stream, std::chrono::milliseconds idleTimeout)
    : stream_(std::move(stream)), idleTimeout_(idleTimeout) {}

void Watcher::stop() {
  stream_->cancel();
}

Result<std::optional<WatchEvent>> Watcher::next() {
  while (ready_.empty()) {
    auto bytes = stream_->read(idleTimeout_);
    if (!bytes) return bytes.error();
    if (bytes->empty()) return std::optional<WatchEvent>();
    std::vector<WatchEvent> events;
    if (auto status = decoder_.feed(*bytes, events); !status) return status.error();
    for (auto& event : events)
      ready_.push_back(std::move(event));
  }
  WatchEvent event = std::move(ready_.front());
  ready_.pop_front();
  if (event.type == WatchEventType::Error) {
    const auto& status = *event.object;
    ApiError err;
    err.kind = FailureKind::ApiStatus;
    err.code = status.value("code", 0);
    err.reason = status.value("reason", "");
    err.message = status.value("message", "");
    if (err.code == 0 && err.reason.empty()) err.reason = "WatchError";
    return err;
  }
  return std::optional<WatchEvent>(std::move(event));
}

}  // namespace kube
