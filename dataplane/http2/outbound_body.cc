// OutboundBody: a stream's queued outbound body bytes, compacted as nghttp2 frames them.
#include "dataplane/http2/outbound_body.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace meshgate::dp::http2::detail {

void OutboundBody::append(std::span<const char> data) {
  bytes_.append(data.data(), data.size());
}

void OutboundBody::endWithTrailers(std::vector<Field> trailers) {
  if (!trailers.empty()) trailers_ = std::move(trailers);
  ended_ = true;
}

void OutboundBody::endWithoutBody() {
  drop();
  ended_ = true;
  trailers_.reset();
}

void OutboundBody::drop() {
  bytes_.clear();
  offset_ = 0;
}

size_t OutboundBody::take(uint8_t* buffer, size_t length) {
  const size_t taken = std::min(length, queued());
  std::memcpy(buffer, bytes_.data() + offset_, taken);
  offset_ += taken;
  if (offset_ == bytes_.size()) {
    drop();
  } else if (offset_ >= bytes_.size() / 2) {
    // Half of the buffer is framed: drop that half rather than let the buffer grow.
    bytes_.erase(0, offset_);
    offset_ = 0;
  }
  return taken;
}

}  // namespace meshgate::dp::http2::detail
