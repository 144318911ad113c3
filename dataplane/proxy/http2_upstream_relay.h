// Relaying the body of an HTTP/2 upstream response (UpstreamHttp2Stream) to an HTTP/1.1 client:
// the rewritten head, then the DATA as it arrives — as chunks when the upstream gave no
// content-length (its trailers in the last chunk; to an HTTP/1.0 client, until the close), as is
// otherwise — each batch acknowledged to
// the upstream (its window reopens) only once written to the client, so a slow client slows the
// stream, not the proxy's memory. A stream reset midway cuts the client connection, as a cut
// HTTP/1.1 body does. Called by forwardResponse (response_forwarder.h); worker thread only.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/byte_stream.h"
#include "dataplane/proxy/deadline_sweeper.h"
#include "dataplane/proxy/upstream_attempt.h"

namespace meshgate::dp {

struct Http1RelayRequest {
  UpstreamHttp2Stream& upstream;
  ByteStream& client;
  Deadline& deadline;
  AttemptWatch& watch;
  SteadyTime requestDeadline;      // SteadyTime::max() without one
  std::chrono::milliseconds idle;  // without a request deadline: the most a wait takes
  const std::string& head;         // the client's head, written first
  http::BodyFraming framing;       // None, ContentLength, Chunked or UntilClose
};

struct Http1RelayResult {
  bool complete = false;  // the whole response reached the client
  uint64_t bytesSent = 0;
};

boost::asio::awaitable<Http1RelayResult> relayHttp2ToHttp1(Http1RelayRequest request);

}  // namespace meshgate::dp
