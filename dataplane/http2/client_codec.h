// ClientCodec: the client side of one HTTP/2 connection to an upstream (RFC 9113), over nghttp2
// as ServerCodec is: bytes in (receive), bytes out (nextOutput), response events out
// (ClientCodecEvents), requests in (submitRequest, appendBody, submitTrailers). Many requests
// share the connection as streams, up to the server's SETTINGS_MAX_CONCURRENT_STREAMS; the pool
// opens another connection beyond that. Response body bytes reopen the server's window only when
// the proxy has passed them on (consumed), so a fast upstream cannot make it buffer more than a
// window for a slow client. The same defences as the server side hold against a hostile upstream
// (header list size, CONTINUATION frames, queued acknowledgements). It does no I/O and owns no
// thread. Used on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/http2/server_codec.h"

namespace meshgate::dp::http2 {

// A response's final header block (1xx interim responses are skipped).
struct ResponseHead {
  unsigned status = 0;
  std::vector<Field> headers;  // regular fields, lowercase names, in order
  std::optional<uint64_t> contentLength;
  bool endStream = false;  // no body follows (nor trailers)
};

struct ClientLimits {
  // Per stream: response body bytes the server may send before the proxy consumed() them.
  uint32_t initialWindowSize = 256 * 1024;
  uint32_t connectionWindowSize = 1024 * 1024;
  uint32_t maxHeaderListBytes = 64 * 1024;  // a response's decoded header list; larger: reset
  uint32_t maxContinuationFrames = 16;
  uint32_t maxQueuedAcks = 1000;
  uint32_t maxSettingsEntries = 32;
};

// What the codec reports, from inside receive() (onStreamWritable and onStreamClosed also from
// nextOutput()). A handler may call the codec's submit and reset methods from these callbacks.
class ClientCodecEvents {
 public:
  virtual void onResponseHead(int32_t stream, ResponseHead head) = 0;
  // Response body bytes; counted against the server's window until consumed().
  virtual void onResponseData(int32_t stream, std::span<const char> data) = 0;
  // The response ended (END_STREAM), with its trailers if it had any (gRPC's grpc-status).
  virtual void onResponseEnd(int32_t stream, std::vector<Field> trailers) = 0;
  // The stream is closed: after its response ended (errorCode 0) or reset by either side
  // (REFUSED_STREAM 7 from a server over its limit: the request was not processed). No further
  // calls for it.
  virtual void onStreamClosed(int32_t stream, uint32_t errorCode) = 0;
  // The stream's queued request body fell below ServerCodec::kLowWaterBytes.
  virtual void onStreamWritable(int32_t stream) = 0;
  // The server sent GOAWAY: streams above `lastStreamId` were not processed (and are closed with
  // REFUSED_STREAM); no new requests on this connection.
  virtual void onGoAway(int32_t lastStreamId, uint32_t errorCode) = 0;

 protected:
  ~ClientCodecEvents() = default;
};

class ClientCodec {
 public:
  // Queues the client preface and SETTINGS (ENABLE_PUSH 0, INITIAL_WINDOW_SIZE,
  // MAX_HEADER_LIST_SIZE) at once.
  ClientCodec(ClientCodecEvents& events, const ClientLimits& limits);
  ~ClientCodec();
  ClientCodec(const ClientCodec&) = delete;
  ClientCodec& operator=(const ClientCodec&) = delete;

  // Feeds bytes read from the server. False on a connection error, with a GOAWAY queued; error()
  // says why.
  bool receive(std::span<const char> bytes);
  // The next bytes to write to the server; empty when nothing is pending. Valid until the next
  // call of any method.
  std::span<const char> nextOutput();
  bool wantsWrite() const;
  bool wantsRead() const;

  // A new stream for `head` (method, scheme, authority, path become the pseudo-headers; regular
  // fields with lowercase names; connection-specific ones are dropped). `endStream`: no body.
  // Returns the stream id, or -1 when the connection takes no new stream (GOAWAY, ids exhausted,
  // or the server's concurrency limit reached: see canOpenStream()).
  int32_t submitRequest(const RequestHead& head, bool endStream);
  // Queues request body bytes (copied); `end` ends the stream after them unless trailers follow.
  void appendBody(int32_t stream, std::span<const char> data, bool end);
  void submitTrailers(int32_t stream, const std::vector<Field>& trailers);
  size_t queuedBody(int32_t stream) const;
  void resetStream(int32_t stream, uint32_t errorCode);
  // `bytes` of the stream's response body were passed on: the server may send that much more.
  void consumed(int32_t stream, size_t bytes);

  // A new stream may be opened now: no GOAWAY either way, and fewer open streams than the
  // server's SETTINGS_MAX_CONCURRENT_STREAMS (100 until its SETTINGS say otherwise).
  bool canOpenStream() const;
  size_t openStreams() const;
  bool goAwayReceived() const;
  std::string_view error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshgate::dp::http2
