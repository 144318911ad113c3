// DownstreamSession: one client connection of a worker, from accept to close — the HTTP/1.1 codec
// side of the request path. It reads request heads (strict parser, header-read and idle
// timeouts), routes them with the worker's current view, runs the rule's filter chain
// (request_filter.h), admits the request (request breaker, buffered-body budget), buffers a small
// body so it can be replayed, then hands the request to UpstreamRouter (attempts and retries,
// never writing to the client) and the result either to ResponseForwarder or to sendLocalReply,
// the one place the proxy answers by itself. It streams a larger body on request of an attempt
// (RequestBody), tunnels an upgraded connection (WebSocket), and serves keep-alive and pipelined
// requests in order. A client that speaks HTTP/2 — ALPN h2, or the h2c preface — is handed to an
// Http2Connection the session keeps. Lives in its coroutine; used only on its worker's thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "dataplane/http/chunked_decoder.h"
#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/byte_stream.h"
#include "dataplane/proxy/deadline_sweeper.h"
#include "dataplane/proxy/local_reply.h"
#include "dataplane/proxy/request_routing.h"
#include "dataplane/proxy/upstream_attempt.h"
#include "dataplane/proxy/worker_view.h"

namespace meshgate::dp {

class Http2Connection;
class Worker;

class DownstreamSession final : public Deadline, private RequestBody {
 public:
  DownstreamSession(Worker& worker, ByteStream stream, std::string listenerName,
                    tcp::endpoint peer);
  ~DownstreamSession() override;

  // A session of a mesh listener: routes by MeshTable, authorizes inbound requests.
  void setMesh(MeshConnection mesh) { mesh_ = std::move(mesh); }

  // Serves the connection until it closes; owns the session.
  static asio::awaitable<void> serve(std::unique_ptr<DownstreamSession> session);

  // Drain: close now if idle between requests, otherwise after the current response.
  void closeWhenIdle();
  // Shutdown after the drain deadline: cancel everything now.
  void abort();

  // Deadline
  void onDeadline() override;

 private:
  // What the connection is waiting for; decides what a deadline cancels.
  enum class Phase { Handshake, Idle, HeaderRead, Body, Upstream, Response, Tunnel, Http2 };

  // Lends the per-request head strings from the worker for one request.
  class ScratchLease {
   public:
    explicit ScratchLease(DownstreamSession& session);
    ~ScratchLease();
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;

   private:
    DownstreamSession& session_;
  };

  asio::awaitable<void> run();
  asio::awaitable<bool> handleRequest();  // false: close the connection
  asio::awaitable<bool> readMore();
  asio::awaitable<bool> bufferBody(uint64_t length);
  // Writes `reply` to the client: the one place the proxy answers by itself. The connection stays
  // open when `keepAlive` and the reply does not ask to close; returns whether it does.
  asio::awaitable<bool> sendLocalReply(LocalReply reply, bool keepAlive);
  asio::awaitable<bool> replyAndFinish(LocalReply reply, bool keepAlive, const CompiledRule* rule,
                                       std::optional<size_t> backend);
  asio::awaitable<void> tunnel(ByteStream& upstream);
  // The client speaks HTTP/2 (ALPN h2, or the h2c preface in `alreadyRead`): serves it to the end.
  asio::awaitable<void> serveHttp2(std::span<const char> alreadyRead);
  void armIn(std::chrono::milliseconds timeout);
  void finishRequest(unsigned status, const CompiledRule* rule, std::optional<size_t> backend);
  void compactInput();
  std::string_view input() const { return {in_.data() + inStart_, inEnd_ - inStart_}; }

  // RequestBody
  std::span<const char> buffered() const override {
    return {in_.data() + bodyStart_, bodyBuffered_};
  }
  bool complete() const override { return bodyComplete_; }
  asio::awaitable<BodyOutcome> streamRest(BodyWriter& upstream) override;

  Worker& worker_;
  ByteStream stream_;
  std::string listenerName_;
  tcp::endpoint peer_;
  std::string peerIp_;
  std::optional<MeshConnection> mesh_;
  std::unique_ptr<Http2Connection> http2_;  // once the client turned out to speak HTTP/2

  Phase phase_ = Phase::Handshake;
  AttemptWatch watch_;  // timedOut: the deadline fired (any phase)
  bool closeWhenIdle_ = false;
  uint64_t requestsServed_ = 0;

  std::vector<char> in_;
  size_t inStart_ = 0;
  size_t inEnd_ = 0;
  http::RequestHead request_;
  http::ResponseHead response_;
  http::ChunkedDecoder chunked_;
  RequestView routingView_;
  FilterState filterState_;  // cleared before each request; its capacity is reused
  WorkerViewPtr view_;

  // Per request.
  std::string upstreamHead_;
  std::string responseHead_;
  std::string rewrittenPath_;
  std::string method_;  // outlives the head's views
  std::string requestId_;
  size_t bodyStart_ = 0;        // offset in in_ of the body bytes that follow the head
  size_t bodyBuffered_ = 0;     // body bytes in in_ from bodyStart_
  bool bodyComplete_ = false;   // the whole body is in in_ (replayable)
  uint64_t bodyRemaining_ = 0;  // Content-Length bytes still to read from the client
  bool isHead_ = false;
  bool sentContinue_ = false;
  bool bodyConsumed_ = false;  // a streamed body was read to its end
  SteadyTime requestStart_;
  SteadyTime requestDeadline_ = SteadyTime::max();
  std::string upstreamAddress_;
  std::string logMethod_, logTarget_, logHost_;  // copies: the head's views die with the buffer
  uint64_t bytesSent_ = 0;
};

}  // namespace meshgate::dp
