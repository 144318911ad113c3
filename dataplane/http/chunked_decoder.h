// ChunkedDecoder follows a chunked body (RFC 9112 section 7.1) as its bytes stream through the
// proxy, without buffering it: the proxy forwards the raw bytes it is given and learns where the
// message ends and whether the framing is valid. Chunk sizes are 1*HEXDIG (at most 16 digits, no
// overflow, no sign or whitespace), chunk extensions are skipped (bounded length), the chunk data
// must be followed by CRLF, trailers are header lines (bounded), and bare CR or LF is an error.
// It also counts the payload bytes so the proxy can enforce its body limit, and can hand the
// payload and trailer section to a Sink (an HTTP/2 client gets the payload without the framing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshgate::dp::http {

class ChunkedDecoder {
 public:
  enum class Status { NeedMore, Done, Error };

  struct Result {
    Status status = Status::NeedMore;
    // Bytes of the input that belong to this body. On Done, bytes after `consumed` belong to the
    // next message; on NeedMore it is the whole input.
    size_t consumed = 0;
  };

  // Bounds on what the decoder accepts (anything longer is an Error, so a peer cannot make the
  // proxy scan framing forever): a chunk-size line with its extensions, CRLF excluded; one
  // trailer field line, CRLF excluded; the whole trailer section, CRLFs included.
  static constexpr size_t kMaxSizeLineBytes = 4 * 1024;
  static constexpr size_t kMaxTrailerLineBytes = 16 * 1024;
  static constexpr size_t kMaxTrailerBytes = 64 * 1024;
  static constexpr unsigned kMaxSizeDigits = 16;

  // Receives what a body carries, without its framing.
  class Sink {
   public:
    virtual void payload(std::string_view data) = 0;
    // Bytes of the trailer section ("name: value\r\n" lines, the final empty line excluded), in
    // pieces as they arrive.
    virtual void trailerText(std::string_view text) = 0;

   protected:
    ~Sink() = default;
  };

  // Feed the next bytes of the body (starting right after the head). May be called with any
  // split of the input, down to one byte at a time. Once Done or Error, further calls return the
  // same status with consumed 0 until reset(). On Error, `consumed` is the offset of the offending
  // byte within `data`.
  // With a `sink`, the payload and trailer bytes of `data` go to it as they are validated.
  Result consume(std::string_view data, Sink* sink = nullptr);

  // Payload bytes seen so far (chunk data only, not framing).
  uint64_t payloadBytes() const { return payloadBytes_; }
  // Why the last Error happened ("invalid chunk size", "missing CRLF after chunk data", …).
  std::string_view error() const { return error_; }

  void reset() { *this = ChunkedDecoder{}; }

 private:
  enum class State {
    Size,          // chunk-size digits
    Extension,     // after ';' up to the CR of the size line
    SizeLF,        // LF ending the size line
    Data,          // chunk data, `remaining_` bytes left
    DataCR,        // CR after the chunk data
    DataLF,        // LF after the chunk data
    TrailerStart,  // start of a trailer line, or the CR of the final empty line
    TrailerName,   // field name up to ':'
    TrailerValue,  // field value up to CR
    TrailerLF,     // LF ending a trailer line
    LastLF,        // LF of the final empty line
    Done,
    Failed,
  };

  Result fail(size_t offset, std::string_view why);

  State state_ = State::Size;
  uint64_t remaining_ = 0;
  uint64_t payloadBytes_ = 0;
  unsigned sizeDigits_ = 0;
  size_t lineBytes_ = 0;     // bounds the size line and each trailer line
  size_t trailerBytes_ = 0;  // bounds the trailer section
  std::string_view error_;
};

}  // namespace meshgate::dp::http
