// The client side of the request path: read, route, filter, admit, forward or answer locally.
#include "dataplane/proxy/downstream_session.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/assert.h"
#include "dataplane/proxy/alpn.h"
#include "dataplane/proxy/forwarded_head.h"
#include "dataplane/proxy/http2_connection.h"
#include "dataplane/proxy/mesh_tls.h"
#include "dataplane/proxy/request_filter.h"
#include "dataplane/proxy/response_forwarder.h"
#include "dataplane/proxy/upstream_router.h"
#include "dataplane/proxy/worker.h"

namespace meshgate::dp {

namespace {

constexpr size_t kInitialInput = 1024;
constexpr size_t kKeepInput = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

using Steady = std::chrono::steady_clock;

// An Upgrade naming h2c. Forwarded, it would let the backend switch the connection to HTTP/2 and
// the proxy tunnel it, so later requests would pass no route or filter ("h2c smuggling"): such a
// request goes upstream as a plain request instead.
bool upgradesToH2c(const http::RequestHead& request) {
  for (const auto& header : request.headers) {
    if (!http::equalsIgnoreCase(header.name, "upgrade")) continue;
    std::string_view tokens = header.value;
    while (!tokens.empty()) {
      const size_t comma = tokens.find(',');
      std::string_view token = tokens.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
        token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.remove_suffix(1);
      if (http::equalsIgnoreCase(token, "h2c")) return true;
      if (comma == std::string_view::npos) break;
      tokens.remove_prefix(comma + 1);
    }
  }
  return false;
}

asio::awaitable<void> pump(ByteStream& from, ByteStream& to) {
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    auto [ec, n] = co_await from.readSome(asio::buffer(buffer));
    if (ec || n == 0) break;
    if (failed(co_await to.writeAll(asio::buffer(buffer.data(), n)))) break;
  }
  to.shutdownSend();
}

}  // namespace

DownstreamSession::ScratchLease::ScratchLease(DownstreamSession& session) : session_(session) {
  Worker& worker = session_.worker_;
  session_.upstreamHead_ = worker.takeString();
  session_.responseHead_ = worker.takeString();
  session_.requestId_ = worker.takeString();
  session_.response_.headers.reserve(16);
}

DownstreamSession::ScratchLease::~ScratchLease() {
  Worker& worker = session_.worker_;
  worker.giveString(std::move(session_.upstreamHead_));
  worker.giveString(std::move(session_.responseHead_));
  worker.giveString(std::move(session_.requestId_));
  // The upstream response's header list is rebuilt per request; an idle connection keeps none.
  std::vector<http::Header>().swap(session_.response_.headers);
}

DownstreamSession::DownstreamSession(Worker& worker, ByteStream stream, std::string listenerName,
                                     tcp::endpoint peer)
    : worker_(worker),
      stream_(std::move(stream)),
      listenerName_(std::move(listenerName)),
      peer_(peer),
      peerIp_(peer.address().to_string()) {
  worker_.sessionStarted(this);
}

DownstreamSession::~DownstreamSession() {
  worker_.sessionEnded(this);
}

asio::awaitable<void> DownstreamSession::serve(std::unique_ptr<DownstreamSession> session) {
  co_await session->run();
  session->stream_.close();
}

void DownstreamSession::closeWhenIdle() {
  closeWhenIdle_ = true;
  if (http2_) {
    http2_->closeWhenIdle();
    return;
  }
  if (phase_ == Phase::Idle) stream_.cancel();
}

void DownstreamSession::abort() {
  closeWhenIdle_ = true;
  if (http2_) http2_->abort();
  stream_.cancel();
  watch_.cancelAll();
}

void DownstreamSession::onDeadline() {
  watch_.timedOut = true;
  switch (phase_) {
    case Phase::Handshake:
    case Phase::Idle:
    case Phase::HeaderRead:
    case Phase::Body:
      stream_.cancel();
      break;
    case Phase::Upstream:
      watch_.cancelAll();
      break;
    case Phase::Http2:
      break;  // the HTTP/2 connection keeps its own deadlines
    case Phase::Response:
    case Phase::Tunnel:
      stream_.cancel();
      watch_.cancelAll();
      break;
  }
}

void DownstreamSession::armIn(std::chrono::milliseconds timeout) {
  watch_.timedOut = false;
  if (timeout.count() <= 0)
    disarm();
  else
    arm(Steady::now() + timeout);
}

void DownstreamSession::compactInput() {
  MESHGATE_ASSERT(inStart_ <= inEnd_ && inEnd_ <= in_.size(), "input offsets within the buffer");
  if (inStart_ == inEnd_) {
    inStart_ = inEnd_ = 0;
  } else if (inStart_ > 0) {
    std::memmove(in_.data(), in_.data() + inStart_, inEnd_ - inStart_);
    inEnd_ -= inStart_;
    inStart_ = 0;
  }
}

asio::awaitable<bool> DownstreamSession::readMore() {
  if (in_.size() - inEnd_ < 512) {
    compactInput();
    if (in_.size() - inEnd_ < 512) in_.resize(std::max(in_.size() * 2, kInitialInput));
  }
  auto [ec, n] = co_await stream_.readSome(asio::buffer(in_.data() + inEnd_, in_.size() - inEnd_));
  if (ec || n == 0) co_return false;
  inEnd_ += n;
  co_return true;
}

asio::awaitable<void> DownstreamSession::run() {
  view_ = worker_.view();
  if (stream_.tls()) {
    phase_ = Phase::Handshake;
    armIn(view_->snapshot().config().timeouts.headerRead);
    if (co_await stream_.handshakeAsServer()) co_return;
    if (mesh_) mesh_->peerIdentity = peerSpiffeId(stream_.nativeTls());
    if (negotiatedHttp2(stream_.nativeTls())) {
      co_await serveHttp2({});
      co_return;
    }
  }
  for (;;) {
    compactInput();
    if (closeWhenIdle_ && inStart_ == inEnd_) co_return;
    // A buffer grown for a large head or body is not kept by an idle connection.
    if (inStart_ == inEnd_ && in_.size() > kKeepInput) std::vector<char>().swap(in_);
    view_ = worker_.view();
    isHead_ = false;
    filterState_.clear();
    const ProxyConfig& config = view_->snapshot().config();
    const http::Limits limits = headLimits(config.limits);
    const bool waiting = inStart_ == inEnd_;
    phase_ = waiting ? Phase::Idle : Phase::HeaderRead;
    armIn(waiting && requestsServed_ > 0 ? config.timeouts.idle : config.timeouts.headerRead);

    http::ParseStatus status;
    for (;;) {
      if (requestsServed_ == 0) {
        // A client that opens with the HTTP/2 preface speaks HTTP/2 by prior knowledge: h2c, or
        // over TLS without ALPN.
        const std::string_view preface = http2::kClientPreface;
        const std::string_view start = input().substr(0, preface.size());
        if (!start.empty() && preface.starts_with(start)) {
          if (start.size() == preface.size()) {
            co_await serveHttp2(input());
            co_return;
          }
          if (!co_await readMore()) co_return;
          continue;
        }
      }
      status = http::parseRequestHead(input(), limits, request_);
      if (status != http::ParseStatus::NeedMore) break;
      if (!co_await readMore()) {
        if (watch_.timedOut && phase_ == Phase::HeaderRead) {
          worker_.countBadRequest("header read timeout");
          co_await sendLocalReply(makeLocalReply(408, "request header timeout\n"), false);
        }
        co_return;
      }
      if (phase_ == Phase::Idle) {
        phase_ = Phase::HeaderRead;
        armIn(config.timeouts.headerRead);
      }
    }
    if (status != http::ParseStatus::Complete) {
      worker_.countBadRequest(http::describe(status));
      std::string body(http::describe(status));
      body.push_back('\n');
      co_await sendLocalReply(makeLocalReply(http::statusFor(status), std::move(body)), false);
      co_return;
    }
    if (!co_await handleRequest()) co_return;
  }
}

asio::awaitable<bool> DownstreamSession::sendLocalReply(LocalReply reply, bool keepAlive) {
  MESHGATE_ASSERT(reply.status >= 200 && reply.status <= 599, "a local reply is a final response");
  keepAlive = keepAlive && !reply.closeConnection && !closeWhenIdle_;
  // What the request's filters add to every response (CORS, rate-limit state) goes on local
  // replies too, so a browser can read them and a client can see its quota.
  appendHeaderLines(reply.extraHeaders, filterState_.responseHeaders);
  formatLocalReply(responseHead_, reply.status, reply.body, reply.extraHeaders, keepAlive,
                   /*announceOnly=*/isHead_);
  phase_ = Phase::Response;
  armIn(view_->snapshot().config().timeouts.idle);
  const error_code ec = std::get<0>(co_await stream_.writeAll(asio::buffer(responseHead_)));
  bytesSent_ += responseHead_.size();
  co_return !ec && keepAlive;
}

asio::awaitable<bool> DownstreamSession::replyAndFinish(LocalReply reply, bool keepAlive,
                                                        const CompiledRule* rule,
                                                        std::optional<size_t> backend) {
  finishRequest(reply.status, rule, backend);
  co_return co_await sendLocalReply(reply, keepAlive);
}

asio::awaitable<bool> DownstreamSession::bufferBody(uint64_t length) {
  MESHGATE_ASSERT(bodyStart_ >= inStart_ && bodyStart_ <= inEnd_, "the body starts in the input");
  while (inEnd_ - bodyStart_ < length) {
    if (request_.expectContinue && !sentContinue_) {
      sentContinue_ = true;
      if (failed(co_await stream_.writeAll(asio::buffer(kContinue)))) co_return false;
    }
    // readMore may move the buffered bytes; keep the body's offset relative to inStart_.
    const size_t offset = bodyStart_ - inStart_;
    if (!co_await readMore()) co_return false;
    bodyStart_ = inStart_ + offset;
  }
  co_return true;
}

asio::awaitable<bool> DownstreamSession::handleRequest() {
  requestStart_ = Steady::now();
  requestsServed_++;
  if (request_.upgrade && upgradesToH2c(request_)) request_.upgrade = false;
  phase_ = Phase::Body;
  disarm();
  const Snapshot& snapshot = view_->snapshot();
  const ProxyConfig& config = snapshot.config();
  isHead_ = request_.method == "HEAD";
  // The head is consumed; its views (request_, routingView_) stay valid until the next read
  // of the client, which may move the buffer, so everything that needs them runs before.
  bodyStart_ = inStart_ + request_.headBytes;
  inStart_ = bodyStart_;
  method_.assign(request_.method);
  bodyBuffered_ = 0;
  bodyRemaining_ = 0;
  bodyComplete_ = false;
  bodyConsumed_ = false;
  sentContinue_ = false;
  upstreamAddress_.clear();
  chunked_.reset();
  const ActiveRequest active(worker_);
  const ScratchLease scratch(*this);

  routingView_.method = request_.method;
  routingView_.host = request_.host;
  routingView_.path = request_.path;
  splitQuery(request_.query, routingView_.query);
  routingView_.headers.clear();
  for (const auto& header : request_.headers)
    routingView_.headers.emplace_back(header.name, header.value);
  if (worker_.accessLogEnabled()) {
    logMethod_.assign(request_.method);
    logTarget_.assign(request_.target);
    logHost_.assign(request_.host);
  }

  // A reply before the body was read keeps the connection only when there is no body to skip.
  const bool hasBody = request_.framing != http::BodyFraming::None;
  const bool keepWithoutBody = request_.keepAlive && !hasBody;
  const CompiledRule* rule = nullptr;
  if (mesh_) {
    LocalReply refusal;
    rule = routeMeshRequest(snapshot, *mesh_, request_.host, worker_.stats(), refusal);
    if (!rule)
      co_return co_await replyAndFinish(std::move(refusal), keepWithoutBody, nullptr, std::nullopt);
    if (mesh_->role == api::ListenerRole::kMeshInbound && mesh_->peerIdentity)
      filterState_.requestHeaders.emplace_back(kPeerIdentityHeader, *mesh_->peerIdentity);
  } else {
    rule = snapshot.select(routingView_);
    if (!rule)
      co_return co_await replyAndFinish(makeLocalReply(404, "no route for this host and path\n"),
                                        keepWithoutBody, nullptr, std::nullopt);
  }
  {
    LocalReply filtered;
    const FilterContext context{.request = routingView_,
                                .target = request_.target,
                                .clientIp = peerIp_,
                                .tls = stream_.tls(),
                                .worker = worker_.index(),
                                .state = filterState_};
    if (runFilters(rule->filters, context, filtered) == FilterStatus::Reply)
      co_return co_await replyAndFinish(std::move(filtered), keepWithoutBody, rule, std::nullopt);
  }

  // The upstream head, built once for every attempt.
  requestId_.clear();
  if (!routingView_.header("x-request-id")) worker_.newRequestId(requestId_);
  const RequestForwarding forwarding{
      .path = rewritePath(*rule, request_.path, rewrittenPath_),
      .query = request_.query,
      .host = rule->rewriteHostname ? std::string_view(*rule->rewriteHostname) : request_.host,
      .clientIp = peerIp_,
      .requestId = requestId_,
      .tls = stream_.tls(),
      .edits = rule->requestHeaders.empty() ? nullptr : &rule->requestHeaders,
      .added = filterState_.requestHeaders.empty() ? nullptr : &filterState_.requestHeaders};
  writeUpstreamRequestHead(upstreamHead_, request_, forwarding);
  if (requestId_.empty())
    requestId_.assign(routingView_.header("x-request-id").value_or(std::string_view{}));

  const auto backend = view_->pickBackend(*rule);
  if (!backend)
    co_return co_await replyAndFinish(makeLocalReply(503, "no backend with weight\n"),
                                      keepWithoutBody, rule, std::nullopt);
  const BackendRef& ref = rule->backends[*backend];
  const Cluster& cluster = snapshot.clusters()[ref.cluster];
  const auto timeout = rule->timeout ? rule->timeout : cluster.timeout;
  const std::chrono::milliseconds requestTimeout = timeout.value_or(config.timeouts.request);
  requestDeadline_ =
      requestTimeout.count() > 0 ? requestStart_ + requestTimeout : SteadyTime::max();

  auto requestSlot = cluster.breaker->tryAcquire(CircuitBreaker::Resource::Requests);
  if (!requestSlot) {
    cluster.overflow[static_cast<size_t>(CircuitBreaker::Resource::Requests)]->inc();
    co_return co_await replyAndFinish(
        makeLocalReply(503, "upstream overflow: too many requests\n", kOverflowHeader),
        keepWithoutBody, rule, *backend);
  }

  const RequestHash hash = requestHash(cluster, routingView_, peerIp_);
  BodyBufferLease bodyLease(worker_);

  // Body: small Content-Length bodies are read whole first, so that a failed attempt can be
  // replayed; larger or chunked ones stream and are not retried.
  if (request_.framing == http::BodyFraming::ContentLength) {
    if (request_.contentLength > config.limits.maxBodyBytes)
      co_return co_await replyAndFinish(makeLocalReply(413, "request body too large\n"), false,
                                        rule, std::nullopt);
    if (request_.contentLength <= config.limits.maxRetryBufferBytes) {
      // Memory for bodies held for replay is capped per worker: beyond it, shed before reading.
      if (!bodyLease.reserve(request_.contentLength))
        co_return co_await replyAndFinish(
            makeLocalReply(503, "over capacity: buffered request bodies\n", "retry-after: 1\r\n"),
            false, rule, *backend);
      // Reads the client: request_'s views are dead after this.
      phase_ = Phase::Body;
      armIn(config.timeouts.idle);
      if (!co_await bufferBody(request_.contentLength)) co_return false;
      bodyBuffered_ = request_.contentLength;
      bodyComplete_ = true;
    } else {
      bodyBuffered_ = std::min<uint64_t>(inEnd_ - bodyStart_, request_.contentLength);
      bodyRemaining_ = request_.contentLength - bodyBuffered_;
    }
  } else if (request_.framing == http::BodyFraming::Chunked) {
    const auto result = chunked_.consume({in_.data() + bodyStart_, inEnd_ - bodyStart_});
    if (result.status == http::ChunkedDecoder::Status::Error) {
      worker_.countBadRequest("invalid chunked body");
      co_return co_await replyAndFinish(makeLocalReply(400, "invalid chunked body\n"), false, rule,
                                        std::nullopt);
    }
    bodyBuffered_ = result.consumed;
    bodyComplete_ = result.status == http::ChunkedDecoder::Status::Done;
    if (chunked_.payloadBytes() > config.limits.maxBodyBytes)
      co_return co_await replyAndFinish(makeLocalReply(413, "request body too large\n"), false,
                                        rule, std::nullopt);
  } else {
    bodyComplete_ = true;
  }
  // A body that streams is asked for now (the proxy answers Expect itself), so that no attempt
  // ever writes to the client.
  if (!bodyComplete_ && request_.expectContinue && bodyStart_ + bodyBuffered_ == inEnd_) {
    sentContinue_ = true;
    if (failed(co_await stream_.writeAll(asio::buffer(kContinue)))) co_return false;
  }

  // Upstream: attempts and retries, then the response or a local reply.
  phase_ = Phase::Upstream;
  PooledBuffer upBuffer(worker_);
  const AttemptContext attemptContext{.worker = worker_,
                                      .deadline = *this,
                                      .watch = watch_,
                                      .snapshot = view_->snapshotPtr(),
                                      .limits = headLimits(config.limits)};
  // Requests are named, not temporaries in the co_await: GCC 12 has destroyed such temporaries
  // while the coroutine they were passed to was suspended.
  const RouteRequest routeRequest{
      .rule = *rule,
      .backend = *backend,
      .hash = hash,
      .head = upstreamHead_,
      .method = method_,
      .upgrade = request_.upgrade,
      .body = *this,
      .requestDeadline = requestDeadline_,
      .perTryTimeout = rule->perTryTimeout ? rule->perTryTimeout : cluster.perTryTimeout};
  RouteResult routed =
      co_await routeUpstream(attemptContext, *view_, routeRequest, upBuffer.bytes, response_);
  if (routed.endpoint) upstreamAddress_ = routed.endpoint->key;
  // The client connection can serve another request only once this one's body is behind it.
  // (Otherwise the rest of the body was never read, and the stream cannot resynchronize.)
  const auto bodyBehind = [&] { return bodyConsumed_ || bodyComplete_; };
  bool keepClient = request_.keepAlive;  // request_ may be dead; keepAlive is a plain bool
  if (routed.reply) {
    finishRequest(routed.status, rule, *backend);
    keepClient = co_await sendLocalReply(*routed.reply, keepClient && bodyBehind());
  } else {
    MESHGATE_ASSERT(routed.response.error == AttemptError::None &&
                        (routed.response.connection || routed.response.http2),
                    "without a local reply the router returns a response to forward");
    phase_ = Phase::Response;
    ForwardRequest forward{
        .client = stream_,
        .deadline = *this,
        .watch = watch_,
        .requestDeadline = requestDeadline_,
        .idle = config.timeouts.idle,
        .response = response_,
        .buffer = upBuffer.bytes,
        .received = routed.response.received,
        .connection = std::move(routed.response.connection),
        .http2 = std::move(routed.response.http2),
        .cluster = cluster,
        .poolKey = routed.endpoint->poolKey,
        .headRequest = isHead_,
        .upgradeRequested = request_.upgrade,
        .keepClient = keepClient && !closeWhenIdle_ && bodyBehind(),
        .clientVersionMinor = request_.versionMinor,
        .edits = rule->responseHeaders.empty() ? nullptr : &rule->responseHeaders,
        .added = filterState_.responseHeaders.empty() ? nullptr : &filterState_.responseHeaders,
        .head = responseHead_};
    ForwardResult forwarded = co_await forwardResponse(std::move(forward), worker_.pool());
    bytesSent_ += forwarded.bytesSent;
    keepClient = forwarded.keepClient;
    if (forwarded.upgraded) {
      watch_.connection = forwarded.upgraded.get();
      co_await tunnel(forwarded.upgraded->stream);
      watch_.connection = nullptr;
      keepClient = false;
    }
    finishRequest(routed.status, rule, *backend);  // an upgraded request: once the tunnel closed
  }
  if (bodyComplete_ && !bodyConsumed_) {
    MESHGATE_ASSERT(bodyStart_ + bodyBuffered_ <= inEnd_, "a complete body lies in the input");
    inStart_ = bodyStart_ + bodyBuffered_;
  }
  if (!bodyBehind()) keepClient = false;
  co_return keepClient && !closeWhenIdle_;
}

asio::awaitable<BodyOutcome> DownstreamSession::streamRest(BodyWriter& upstream) {
  MESHGATE_ASSERT(!bodyComplete_, "only a body that was not buffered whole streams");
  // Everything before the unread rest of the body was sent with the head.
  inStart_ = bodyStart_ + bodyBuffered_;
  const uint64_t maxBody = view_->snapshot().config().limits.maxBodyBytes;
  const auto idle = view_->snapshot().config().timeouts.idle;
  const SteadyTime attemptDeadline = when();
  for (;;) {
    const bool chunked = request_.framing == http::BodyFraming::Chunked;
    if (!chunked && bodyRemaining_ == 0) break;
    if (inStart_ == inEnd_) {
      phase_ = Phase::Body;
      armIn(idle);
      if (!co_await readMore())
        co_return watch_.timedOut ? BodyOutcome::ClientTimeout : BodyOutcome::ClientClosed;
    }
    const std::string_view data = input();
    size_t take = 0;
    bool done = false;
    if (chunked) {
      const auto result = chunked_.consume(data);
      if (result.status == http::ChunkedDecoder::Status::Error) co_return BodyOutcome::Invalid;
      if (chunked_.payloadBytes() > maxBody) co_return BodyOutcome::TooLarge;
      take = result.consumed;
      done = result.status == http::ChunkedDecoder::Status::Done;
    } else {
      take = static_cast<size_t>(std::min<uint64_t>(data.size(), bodyRemaining_));
      bodyRemaining_ -= take;
    }
    phase_ = Phase::Upstream;
    watch_.timedOut = false;
    arm(attemptDeadline);
    if (!co_await upstream.write({data.data(), take})) co_return BodyOutcome::UpstreamFailed;
    inStart_ += take;
    if (done) break;
  }
  bodyConsumed_ = true;
  co_return BodyOutcome::Done;
}

asio::awaitable<void> DownstreamSession::tunnel(ByteStream& upstream) {
  using namespace asio::experimental::awaitable_operators;
  phase_ = Phase::Tunnel;
  disarm();  // an upgraded connection (WebSocket) lives as long as its peers keep it
  // Bytes the client sent after its upgrade request belong to the new protocol.
  if (inStart_ < inEnd_) {
    if (failed(co_await upstream.writeAll(asio::buffer(in_.data() + inStart_, inEnd_ - inStart_))))
      co_return;
  }
  inStart_ = inEnd_ = 0;
  bodyConsumed_ = true;
  co_await (pump(stream_, upstream) || pump(upstream, stream_));
}

asio::awaitable<void> DownstreamSession::serveHttp2(std::span<const char> alreadyRead) {
  phase_ = Phase::Http2;
  disarm();
  http2_ = std::make_unique<Http2Connection>(
      worker_, stream_,
      Http2ConnectionInfo{
          .listenerName = listenerName_, .peerIp = peerIp_, .tls = stream_.tls(), .mesh = mesh_});
  if (closeWhenIdle_) http2_->closeWhenIdle();
  co_await http2_->run(alreadyRead);
  http2_.reset();
}

void DownstreamSession::finishRequest(unsigned status, const CompiledRule* rule,
                                      std::optional<size_t> backend) {
  countFinishedRequest(worker_, status, rule, backend, requestStart_);
  if (worker_.accessLogEnabled()) {
    if (!filterState_.secretQueryParameter.empty())
      redactQueryParameter(logTarget_, filterState_.secretQueryParameter);
    worker_.logAccess(
        {.method = logMethod_,
         .target = logTarget_,
         .host = logHost_,
         .status = status,
         .durationMicros = static_cast<uint64_t>(
             std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - requestStart_)
                 .count()),
         .route = rule ? std::string_view(rule->statName) : std::string_view("-"),
         .upstream = upstreamAddress_,
         .client = peerIp_,
         .requestId = requestId_,
         .listener = listenerName_,
         .identity = filterState_.identity});
  }
}

}  // namespace meshgate::dp
