// Splits a watch response body — newline-delimited JSON events that arrive in arbitrary pieces —
// into WatchEvents. Pieces may cut an event anywhere; an event may be very large (bounded by
// maxEventBytes so a broken stream cannot exhaust memory). Used by Watcher; pure, no I/O.
#pragma once

#include <string>
#include <vector>

#include "kube/result.h"
#include "kube/watch_event.h"

namespace kube {

class WatchEventDecoder {
 public:
  explicit WatchEventDecoder(size_t maxEventBytes = 256u * 1024 * 1024)
      : maxEventBytes_(maxEventBytes) {}

  // Appends `bytes` and moves every complete event to `out`. Fails on malformed JSON, an
  // unknown event type or an event larger than the bound; the stream should then be dropped.
  Status feed(std::string_view bytes, std::vector<WatchEvent>& out);
  // Bytes held for an incomplete event.
  size_t pending() const { return buffer_.size(); }

 private:
  Status decodeLine(std::string_view line, std::vector<WatchEvent>& out);

  size_t maxEventBytes_;
  std::string buffer_;
};

}  // namespace kube
