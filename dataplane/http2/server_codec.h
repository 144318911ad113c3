// ServerCodec: the server side of one HTTP/2 connection (RFC 9113) — framing, HPACK, flow control
// and stream states from nghttp2, the library curl, Apache httpd and h2load use — behind a small
// interface the proxy drives from its Asio worker: bytes in (receive), bytes out (nextOutput),
// request events out (ServerCodecEvents), responses in (submitResponse, appendBody,
// submitTrailers). It does no I/O and owns no thread. It answers the HTTP/2 attacks of recent
// years itself: rapid reset (CVE-2023-44487: a cap on streams the client resets, then GOAWAY
// ENHANCE_YOUR_CALM), CONTINUATION floods (CVE-2024-27316 class: a cap on a header block's frames
// and decoded size), HPACK bombs (decoded header list size), SETTINGS and PING floods (a cap on
// queued acknowledgements and on SETTINGS entries), stream limits (REFUSED_STREAM beyond
// maxConcurrentStreams). Request body bytes reopen the client's flow-control window only when
// the proxy has forwarded them (consumed), so a client cannot make it buffer more than a window.
// Used on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meshgate::dp::http2 {

// A header field; names are lowercase, as HTTP/2 requires.
struct Field {
  std::string name;
  std::string value;
};

// A request's header block, validated by nghttp2's HTTP messaging rules (pseudo-headers present,
// once, first; no connection-specific headers; lowercase names; content-length matches the DATA
// frames).
struct RequestHead {
  std::string method;          // :method
  std::string scheme;          // :scheme (empty for CONNECT)
  std::string authority;       // :authority, or else the host header; may be empty
  std::string path;            // :path, with the query
  std::vector<Field> headers;  // regular fields, in order (cookie crumbs as sent)
  std::optional<uint64_t> contentLength;
  bool endStream = false;  // the request has no body
};

// Bounds on what one client connection may make the proxy hold or do.
struct ServerLimits {
  // SETTINGS_MAX_CONCURRENT_STREAMS; more: REFUSED_STREAM, or, once the client has acknowledged
  // the setting, a connection error (GOAWAY PROTOCOL_ERROR: nghttp2's rule).
  uint32_t maxConcurrentStreams = 100;
  // Per stream: request body bytes the client may send before the proxy consumed() them.
  uint32_t initialWindowSize = 256 * 1024;
  // The connection's window, over all streams.
  uint32_t connectionWindowSize = 1024 * 1024;
  // A request's decoded header list (names + values + 32 per field, RFC 9113 6.5.2): larger is
  // answered with RST_STREAM; also SETTINGS_MAX_HEADER_LIST_SIZE.
  uint32_t maxHeaderListBytes = 64 * 1024;
  uint32_t maxContinuationFrames = 16;  // CONTINUATION frames of one header block; more: GOAWAY
  // Rapid reset: streams the client may reset (RST_STREAM, or opened and reset) as a burst, then
  // per second; beyond: GOAWAY ENHANCE_YOUR_CALM and the connection ends.
  uint32_t resetBurst = 200;
  uint32_t resetsPerSecond = 33;
  uint32_t maxQueuedAcks = 1000;  // SETTINGS/PING acknowledgements not yet written; beyond: GOAWAY
  uint32_t maxSettingsEntries = 32;  // per SETTINGS frame; beyond: GOAWAY
};

// What the codec reports, from inside receive() (and, for onStreamWritable and onStreamClosed, from
// nextOutput()). A handler may call the codec's submit and reset methods from these callbacks.
class ServerCodecEvents {
 public:
  // A request's header block is complete.
  virtual void onRequestHead(int32_t stream, RequestHead head) = 0;
  // Request body bytes, in order. They stay counted against the client's window until consumed().
  virtual void onRequestData(int32_t stream, std::span<const char> data) = 0;
  // The request ended (END_STREAM), with its trailers if it had any.
  virtual void onRequestEnd(int32_t stream, std::vector<Field> trailers) = 0;
  // The stream is closed: reset by the client (errorCode != 0), or after the response ended. No
  // further calls for it; its queued body is dropped.
  virtual void onStreamClosed(int32_t stream, uint32_t errorCode) = 0;
  // The stream's queued response body fell below the low-water mark (kLowWaterBytes).
  virtual void onStreamWritable(int32_t stream) = 0;

 protected:
  ~ServerCodecEvents() = default;
};

class ServerCodec {
 public:
  // Queued response body below which onStreamWritable fires; a proxy stops reading its upstream
  // while a stream holds more than kHighWaterBytes.
  static constexpr size_t kLowWaterBytes = 64 * 1024;
  static constexpr size_t kHighWaterBytes = 256 * 1024;

  // Queues the server's SETTINGS (the connection preface) at once.
  ServerCodec(ServerCodecEvents& events, const ServerLimits& limits);
  ~ServerCodec();
  ServerCodec(const ServerCodec&) = delete;
  ServerCodec& operator=(const ServerCodec&) = delete;

  // Feeds bytes read from the client (starting with its preface). False on a connection error —
  // a protocol violation or a defence tripping — with a GOAWAY queued: write nextOutput() out,
  // then close. error() says why. A protocol error nghttp2 answers by itself (a frame on a closed
  // stream, a bad HPACK block) shows once its GOAWAY has gone out through nextOutput(): error()
  // set, wantsRead() false, receive() false from then on.
  bool receive(std::span<const char> bytes);
  // The next bytes to write to the client; empty when nothing is pending. The view is valid until
  // the next call of any method.
  std::span<const char> nextOutput();
  // The connection has something to write / can still take frames. Both false: close it.
  bool wantsWrite() const;
  bool wantsRead() const;

  // Response headers (`status` becomes :status; names must be lowercase, connection-specific
  // fields are dropped). `endStream`: no body follows. False when the stream is gone.
  bool submitResponse(int32_t stream, unsigned status, const std::vector<Field>& headers,
                      bool endStream);
  // Queues response body bytes (copied); `end` ends the stream after them unless trailers follow.
  void appendBody(int32_t stream, std::span<const char> data, bool end);
  // Ends the stream with trailers after the queued body (gRPC's grpc-status).
  void submitTrailers(int32_t stream, const std::vector<Field>& trailers);
  // Response body bytes queued and not yet framed for this stream (0 for an unknown stream).
  size_t queuedBody(int32_t stream) const;
  // Ends the stream with RST_STREAM `errorCode` (e.g. NGHTTP2_INTERNAL_ERROR = 2, CANCEL = 8).
  void resetStream(int32_t stream, uint32_t errorCode);
  // `bytes` of the stream's request body were forwarded: the client may send that much more.
  void consumed(int32_t stream, size_t bytes);
  // Graceful shutdown (drain): GOAWAY with the last stream id; open streams finish, new ones are
  // refused. The connection ends when they have.
  void goAway();

  size_t openStreams() const;
  // Why receive() failed ("rapid reset: 201 streams reset", "header block over 16 CONTINUATION
  // frames", a nghttp2 error string …); empty before.
  std::string_view error() const;
  // Streams the client reset so far (RST_STREAM received).
  uint64_t resetsReceived() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The client connection preface every HTTP/2 connection starts with ("PRI * HTTP/2.0…"): a
// cleartext client that sends it speaks h2c with prior knowledge.
inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace meshgate::dp::http2
