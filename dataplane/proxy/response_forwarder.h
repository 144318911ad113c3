// ResponseForwarder: sends an upstream response to the client once UpstreamAttempt parsed its
// head — the head rewritten for the client (hop-by-hop headers, the rule's response header edits,
// keep-alive as the proxy decides), then the body with its original framing (Content-Length,
// chunked, until close) and backpressure, no body for HEAD. Gives the upstream connection back to
// the pool when the response ended cleanly and nothing unexpected followed it; a response cut
// short closes the client connection so the client sees the end rather than waiting. A 101 to an
// upgrade request is handed back for the session to tunnel. An HTTP/2 upstream's response is
// relayed by http2_upstream_relay.h. Called by DownstreamSession in its coroutine, on the worker's
// thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/byte_stream.h"
#include "dataplane/proxy/deadline_sweeper.h"
#include "dataplane/proxy/read_buffer.h"
#include "dataplane/proxy/snapshot.h"
#include "dataplane/proxy/upstream_attempt.h"
#include "dataplane/proxy/upstream_pool.h"

namespace meshgate::dp {

struct ForwardRequest {
  ByteStream& client;
  Deadline& deadline;              // the session's
  AttemptWatch& watch;             // the upstream connection, for the deadline
  SteadyTime requestDeadline;      // SteadyTime::max() when the request has no timeout
  std::chrono::milliseconds idle;  // without a request deadline: the most a read or write waits
  const http::ResponseHead& response;
  ReadBuffer& buffer;  // the head and the first body bytes, then reused for the body
  size_t received;     // bytes in buffer
  UpstreamConnectionPtr connection;
  std::shared_ptr<UpstreamHttp2Stream> http2;  // instead of connection: an HTTP/2 upstream's stream
  const Cluster& cluster;                      // pool settings
  const std::string& poolKey;
  bool headRequest = false;
  bool upgradeRequested = false;
  bool keepClient = true;  // what the request allows: keep-alive, body fully read, no drain
  unsigned clientVersionMinor = 1;
  const HeaderEdits* edits = nullptr;
  const HeaderList* added = nullptr;  // the request filters' response headers
  std::string& head;                  // scratch for the client head
};

struct ForwardResult {
  bool keepClient = false;  // the client connection can serve another request
  uint64_t bytesSent = 0;
  UpstreamConnectionPtr upgraded;  // a 101 to an upgrade: the session tunnels over it
};

boost::asio::awaitable<ForwardResult> forwardResponse(ForwardRequest request, UpstreamPool& pool);

}  // namespace meshgate::dp
