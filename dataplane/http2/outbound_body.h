// OutboundBody: one stream's body on its way out (the response body on the server side, the
// request body on the client side): bytes queued until nghttp2 frames them, whether the body has
// ended, and the trailers that follow it. Internal to the HTTP/2 codecs, not meant for the proxy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dataplane/http2/server_codec.h"

namespace meshgate::dp::http2::detail {

class OutboundBody {
 public:
  // Bytes queued and not yet framed.
  size_t queued() const { return bytes_.size() - offset_; }
  // No bytes follow the queued ones.
  bool ended() const { return ended_; }
  // The trailers to send once the queued bytes are framed, if any.
  const std::optional<std::vector<Field>>& trailers() const { return trailers_; }

  void append(std::span<const char> data);
  void end() { ended_ = true; }
  // Ends the body after the queued bytes; non-empty `trailers` follow them (an empty trailer
  // block would be a HEADERS frame with nothing in it: the body ends with its bytes instead).
  void endWithTrailers(std::vector<Field> trailers);
  // The stream ends with its headers: nothing queued goes out, nor trailers.
  void endWithoutBody();
  // Forgets the queued bytes (the stream was reset).
  void drop();
  // Moves up to `length` queued bytes to `buffer`; returns how many.
  size_t take(uint8_t* buffer, size_t length);

 private:
  std::string bytes_;  // bytes before offset_ are framed already
  size_t offset_ = 0;
  bool ended_ = false;
  std::optional<std::vector<Field>> trailers_;
};

}  // namespace meshgate::dp::http2::detail
