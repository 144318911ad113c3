// UpstreamAttempt: one try of a request on one upstream endpoint. It takes a pooled connection or
// opens one (within the cluster's connection and pending-request breakers; TLS when the cluster
// says so), writes the request head with the buffered body and streams the rest of the body, then
// reads and parses the response head, skipping interim 1xx responses (the proxy answers Expect
// itself). A pooled connection that fails before the first response byte — the server closed it
// as it was reused — is replaced once by a new connection when the request can be replayed,
// without counting as a retry. It never writes to the client: UpstreamRouter decides from the
// result whether to retry, answer locally or forward. Called by UpstreamRouter inside the
// session's coroutine, on the worker's thread; the session's deadline cancels it via AttemptWatch.
#pragma once

#include <chrono>
#include <span>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/byte_stream.h"
#include "dataplane/proxy/deadline_sweeper.h"
#include "dataplane/proxy/read_buffer.h"
#include "dataplane/proxy/snapshot.h"
#include "dataplane/proxy/upstream_http2_connection.h"
#include "dataplane/proxy/upstream_pool.h"

namespace meshgate::dp {

class Worker;

// How streaming the rest of a request body ended.
enum class BodyOutcome {
  Done,
  UpstreamFailed,  // writing to the upstream failed (or its deadline passed)
  ClientClosed,    // the client's connection ended before the body did
  ClientTimeout,   // the client sent nothing for the idle timeout
  Invalid,         // malformed chunked framing
  TooLarge,        // more than limits.maxBodyBytes
};

// Where a streamed request body goes: an HTTP/1.1 connection (ByteStreamBodyWriter) or an HTTP/2
// stream (upstream_http2_attempt.h).
class BodyWriter {
 public:
  // Writes all of `data`; false when the upstream failed (or the attempt's deadline passed).
  virtual boost::asio::awaitable<bool> write(std::span<const char> data) = 0;

 protected:
  ~BodyWriter() = default;
};

class ByteStreamBodyWriter final : public BodyWriter {
 public:
  explicit ByteStreamBodyWriter(ByteStream& stream) : stream_(stream) {}
  boost::asio::awaitable<bool> write(std::span<const char> data) override;

 private:
  ByteStream& stream_;
};

// The request body as an attempt sends it; DownstreamSession implements it over its input buffer.
class RequestBody {
 public:
  // Body bytes already read from the client: sent right after the head.
  virtual std::span<const char> buffered() const = 0;
  // The whole body is buffered, so the request can be sent again.
  virtual bool complete() const = 0;
  // Reads the rest of the body from the client and writes it to `upstream` (when !complete()),
  // with the framing the head announced.
  virtual boost::asio::awaitable<BodyOutcome> streamRest(BodyWriter& upstream) = 0;

 protected:
  ~RequestBody() = default;
};

// What the session's deadline reaches while an upstream operation runs.
struct AttemptWatch {
  UpstreamConnection* connection = nullptr;  // the connection in use
  tcp::socket* connecting = nullptr;         // the socket being connected
  UpstreamHttp2Stream* http2 = nullptr;      // the HTTP/2 stream waited on
  bool timedOut = false;                     // the deadline fired since it was last armed

  // What a deadline or an abort does: every pending upstream operation ends.
  void cancelAll();
};

enum class AttemptError {
  None,             // a response head was parsed
  Overflow,         // the cluster's connection or pending-request breaker is full
  ConnectFailure,   // connect or TLS handshake failed
  Timeout,          // the attempt's deadline passed
  Reset,            // the connection failed before a complete response head
  RequestBody,      // streaming the request body failed halfway (see AttemptResult::body)
  InvalidResponse,  // the response head did not parse
};

struct AttemptResult {
  AttemptError error = AttemptError::None;
  BodyOutcome body = BodyOutcome::Done;  // RequestBody: what failed
  std::string_view invalid;              // InvalidResponse: why (static text)
  UpstreamConnectionPtr connection;      // None: the connection the rest of the response comes from
  std::shared_ptr<UpstreamHttp2Stream> http2;  // None, HTTP/2 upstream: the stream instead
  size_t received = 0;  // None: bytes in the buffer, the head then the first body bytes
};

// What stays the same for every attempt of one request.
struct AttemptContext {
  Worker& worker;
  Deadline& deadline;  // the session's: armed with the attempt's deadline
  AttemptWatch& watch;
  const SnapshotPtr& snapshot;  // pinned by each connection (its breaker slot lives there)
  http::Limits limits;          // for the response head
};

struct AttemptRequest {
  const Cluster& cluster;
  const UpstreamEndpoint& endpoint;
  std::string_view head;    // the request head as the upstream gets it
  std::string_view method;  // a response to HEAD has no body; only idempotent requests replay
  bool upgrade = false;     // the request asks to switch protocols: only then is a 101 valid
  RequestBody& body;
  SteadyTime deadline;  // this attempt's: the per-try timeout or the request's
};

// A new connection to `request.endpoint` (TLS or mTLS as the cluster says, offering ALPN h2 for an
// HTTP/2 cluster), or null with `error` set (Overflow, ConnectFailure or Timeout).
boost::asio::awaitable<UpstreamConnectionPtr> connectUpstream(const AttemptContext& context,
                                                              const AttemptRequest& request,
                                                              AttemptError& error);

// Runs one attempt; the response head is parsed into `response`, its bytes (and the first body
// bytes) are in `buffer`, which grows up to the head size limit. An HTTP/2 cluster's attempt
// (upstream_http2_attempt.h) fills `response` from the stream's head and leaves `buffer` alone.
boost::asio::awaitable<AttemptResult> runAttempt(const AttemptContext& context,
                                                 const AttemptRequest& request, ReadBuffer& buffer,
                                                 http::ResponseHead& response);

}  // namespace meshgate::dp
