// Http2Exchange: one request stream of an HTTP/2 client connection, from its header block to the
// end of its response — the HTTP/2 counterpart of DownstreamSession::handleRequest, with the same
// steps in the same order (request_routing.h): route (a gateway's rules, or a sidecar's
// MeshTable), filters, backend pick, request breaker, a small body buffered so it can be replayed
// (a larger one streams, its flow-control window reopened only as bytes go upstream), then
// UpstreamRouter's attempts over HTTP/1.1 and the response turned into HTTP/2: fields instead of
// a head, the body without its HTTP/1.1 framing, trailers of a chunked body as HTTP/2 trailers
// (the request's own trailers go upstream in the last chunk of a chunked body), a stalled client
// (a window that stays shut) cut at the idle timeout. A local reply to a gRPC
// request is a gRPC status (http2_local_reply.h). The connection delivers the stream's events;
// the exchange's coroutine waits for them. Used only on the worker's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "dataplane/http/chunked_decoder.h"
#include "dataplane/http/http1_parser.h"
#include "dataplane/http2/server_codec.h"
#include "dataplane/proxy/deadline_sweeper.h"
#include "dataplane/proxy/local_reply.h"
#include "dataplane/proxy/request_filter.h"
#include "dataplane/proxy/upstream_attempt.h"
#include "dataplane/proxy/worker_view.h"

namespace meshgate::dp {

class Http2Connection;

class Http2Exchange final : public Deadline, private RequestBody {
 public:
  Http2Exchange(Http2Connection& connection, int32_t stream, http2::RequestHead head);
  ~Http2Exchange() override;

  // Serves the stream; the connection keeps `exchange` alive until it returned.
  static asio::awaitable<void> serve(std::shared_ptr<Http2Exchange> exchange);

  // Events of the stream, from the connection.
  void onData(std::span<const char> data);
  void onEnd(std::vector<http2::Field> trailers);
  void onClosed(uint32_t errorCode);  // the stream is gone: stop, write nothing more
  void onWritable();
  // Ends the exchange now (connection shutdown).
  void abort();

  // Deadline
  void onDeadline() override;

 private:
  // What the exchange waits for: more request body, room for response body.
  asio::awaitable<void> waitForEvent();
  void wake();
  asio::awaitable<void> handle();
  // Sends a local reply (plain or gRPC) and counts the request.
  void reply(const LocalReply& reply, const CompiledRule* rule, std::optional<size_t> backend);
  // The upstream response to the client: fields, body without framing, trailers.
  asio::awaitable<void> forwardResponse(AttemptResult& response, ReadBuffer& buffer,
                                        const Cluster& cluster, const std::string& poolKey,
                                        const CompiledRule& rule, SteadyTime requestDeadline);
  // The same from an HTTP/2 upstream: DATA and trailers (gRPC's grpc-status) as they come.
  asio::awaitable<void> relayHttp2Response(UpstreamHttp2Stream& upstream, const CompiledRule& rule,
                                           SteadyTime requestDeadline);
  void finish(unsigned status, const CompiledRule* rule, std::optional<size_t> backend);
  bool gone() const { return closed_ || aborted_; }

  // RequestBody
  std::span<const char> buffered() const override { return {framed_.data(), framed_.size()}; }
  bool complete() const override { return bodyComplete_; }
  asio::awaitable<BodyOutcome> streamRest(BodyWriter& upstream) override;

  Http2Connection& connection_;
  Worker& worker_;
  const int32_t stream_;
  http2::RequestHead head_;
  WorkerViewPtr view_;
  asio::steady_timer wake_;
  bool eventPending_ = false;

  // Request body: bytes received and not yet sent upstream; what an attempt sends first.
  std::string pending_;
  bool requestEnded_ = false;
  bool chunkedUpstream_ = false;  // no content-length and a streamed body: chunked upstream
  std::string framed_;            // the buffered body as the upstream gets it
  bool bodyComplete_ = false;
  uint64_t bodyReceived_ = 0;
  std::vector<http2::Field> requestTrailers_;

  bool closed_ = false;   // the client reset the stream, or it ended
  bool aborted_ = false;  // connection shutdown
  AttemptWatch watch_;
  bool grpc_ = false;
  bool replied_ = false;  // a local reply went out
  bool headRequest_ = false;

  // Per request, as DownstreamSession keeps them.
  http::RequestHead request_;  // views into head_, for the shared head writer
  RequestView routingView_;
  FilterState filterState_;
  std::string upstreamHead_;
  std::string rewrittenPath_;
  std::string requestId_;
  std::string cookie_;  // the cookie crumbs joined for HTTP/1.1
  http::ResponseHead response_;
  SteadyTime start_;
  std::string upstreamAddress_;
  std::vector<http2::Field> responseFields_;
};

}  // namespace meshgate::dp
