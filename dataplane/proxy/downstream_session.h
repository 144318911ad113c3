// DownstreamSession: one client connection of a worker, from accept to close. It reads request
// heads (strict parser, header-read and idle timeouts), routes them with the worker's current
// view, answers locally (404, redirects, 4xx for bad input, 503 on overflow) or forwards to an
// upstream endpoint from the worker's pool — bodies streamed both ways with their original
// framing and backpressure, retries with backoff while the request can still be replayed and no
// response byte was sent, passive outlier reports, circuit-breaker slots — and tunnels the bytes
// of an upgraded connection (WebSocket). Keep-alive and pipelining are served in order. Lives in
// its coroutine; used only on its worker's thread.
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
#include "dataplane/proxy/upstream_pool.h"
#include "dataplane/proxy/worker_view.h"

namespace meshgate::dp {

class Worker;

class DownstreamSession final : public Deadline {
 public:
  DownstreamSession(Worker& worker, ByteStream stream, std::string listenerName,
                    tcp::endpoint peer);
  ~DownstreamSession() override;

  // Serves the connection until it closes; owns the session.
  static asio::awaitable<void> serve(std::unique_ptr<DownstreamSession> session);

  // Drain: close now if idle between requests, otherwise after the current response.
  void closeWhenIdle();
  // Shutdown after the drain deadline: cancel everything now.
  void abort();

  // Deadline
  void onDeadline() override;

 private:
  enum class Phase { Handshake, Idle, HeaderRead, Body, Upstream, Response, Tunnel };
  enum class AttemptFailure { ConnectFailure, Overflow };
  struct AttemptResult {
    unsigned status = 0;      // what the client got (or would get without a retry)
    bool retry = false;       // nothing was sent to the client; try again
    bool keepClient = false;  // the client connection can serve another request
    AttemptOutcome outcome = AttemptOutcome::Response;
  };

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
  asio::awaitable<bool> respondLocal(unsigned status, std::string_view body, bool keepAlive,
                                     std::string_view extraHeaders = {});
  asio::awaitable<bool> redirect(const CompiledRule& rule);
  // One attempt on `endpoint`; `retry` is null when no retry may follow.
  asio::awaitable<AttemptResult> tryUpstream(const CompiledRule& rule, size_t backend,
                                             size_t endpoint, const RetryPolicy* retry,
                                             unsigned attempts);
  asio::awaitable<UpstreamConnectionPtr> connect(const Cluster& cluster,
                                                 const UpstreamEndpoint& endpoint,
                                                 AttemptFailure& failure);
  asio::awaitable<bool> streamRequestBody(ByteStream& upstream);
  asio::awaitable<void> tunnel(ByteStream& upstream);
  void armIn(std::chrono::milliseconds timeout);
  void finishRequest(unsigned status, const CompiledRule* rule, std::optional<size_t> backend);
  void compactInput();
  std::string_view input() const { return {in_.data() + inStart_, inEnd_ - inStart_}; }
  RequestHash requestHash(const Cluster& cluster) const;

  Worker& worker_;
  ByteStream stream_;
  std::string listenerName_;
  tcp::endpoint peer_;
  std::string peerIp_;

  Phase phase_ = Phase::Handshake;
  bool timedOut_ = false;
  bool closeWhenIdle_ = false;
  uint64_t requestsServed_ = 0;

  std::vector<char> in_;
  size_t inStart_ = 0;
  size_t inEnd_ = 0;
  http::RequestHead request_;
  http::ResponseHead response_;
  http::ChunkedDecoder chunked_;
  RequestView routingView_;
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
  bool responseStarted_ = false;
  bool bodyConsumed_ = false;                    // a streamed body was read to its end
  UpstreamConnection* upstreamInUse_ = nullptr;  // for onDeadline()
  tcp::socket* connecting_ = nullptr;            // for onDeadline()
  SteadyTime requestStart_;
  SteadyTime requestDeadline_ = SteadyTime::max();
  SteadyTime attemptDeadline_ = SteadyTime::max();
  std::optional<std::chrono::milliseconds> perTryTimeout_;
  std::string upstreamAddress_;
  std::string logMethod_, logTarget_, logHost_;  // copies: the head's views die with the buffer
  uint64_t bytesSent_ = 0;
};

}  // namespace meshgate::dp
