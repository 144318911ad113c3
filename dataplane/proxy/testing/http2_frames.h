// Raw HTTP/2 frames for the HTTP/2 request-path tests that speak no HTTP/2 themselves (malformed
// input, rapid-reset floods, HTTP/2 spoken over a connection without a session): rawFrame()
// builds a frame's bytes, splitFrames() cuts what a server wrote into frames, goAwayErrorCode()
// reads a GOAWAY's error code. Included by testing/http2_client.h. Header-only, test code.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshgate::dp::testing {

// One frame of raw(), for tests that speak no HTTP/2 themselves.
struct Http2RawFrame {
  uint8_t type = 0;  // NGHTTP2_DATA, NGHTTP2_GOAWAY, …
  uint8_t flags = 0;
  int32_t streamId = 0;
  std::string payload;
};

// Splits `bytes` (what a server wrote: its SETTINGS first) into whole frames; a partial frame at
// the end is left out.
inline std::vector<Http2RawFrame> splitFrames(std::string_view bytes) {
  std::vector<Http2RawFrame> frames;
  while (bytes.size() >= 9) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
    const size_t length = (size_t{byte(0)} << 16) | (size_t{byte(1)} << 8) | byte(2);
    if (bytes.size() < 9 + length) break;
    Http2RawFrame frame;
    frame.type = byte(3);
    frame.flags = byte(4);
    frame.streamId =
        static_cast<int32_t>(((uint32_t{byte(5)} & 0x7F) << 24) | (uint32_t{byte(6)} << 16) |
                             (uint32_t{byte(7)} << 8) | byte(8));
    frame.payload.assign(bytes.substr(9, length));
    frames.push_back(std::move(frame));
    bytes.remove_prefix(9 + length);
  }
  return frames;
}

// A frame's bytes: the 9-byte header, then `payload`.
inline std::string rawFrame(uint8_t type, uint8_t flags, int32_t streamId,
                            std::string_view payload) {
  std::string out;
  const size_t length = payload.size();
  out.push_back(static_cast<char>((length >> 16) & 0xFF));
  out.push_back(static_cast<char>((length >> 8) & 0xFF));
  out.push_back(static_cast<char>(length & 0xFF));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  const auto id = static_cast<uint32_t>(streamId) & 0x7FFFFFFF;
  out.push_back(static_cast<char>(id >> 24));
  out.push_back(static_cast<char>((id >> 16) & 0xFF));
  out.push_back(static_cast<char>((id >> 8) & 0xFF));
  out.push_back(static_cast<char>(id & 0xFF));
  out.append(payload);
  return out;
}

// The GOAWAY's error code in a raw frame, if `frame` is one.
inline std::optional<uint32_t> goAwayErrorCode(const Http2RawFrame& frame) {
  if (frame.type != NGHTTP2_GOAWAY || frame.payload.size() < 8) return std::nullopt;
  uint32_t code = 0;
  for (size_t i = 4; i < 8; ++i)
    code = (code << 8) | static_cast<uint8_t>(frame.payload[i]);
  return code;
}

}  // namespace meshgate::dp::testing
