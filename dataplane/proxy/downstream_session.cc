// The request path of one client connection: read, route, forward, stream back.
#include "dataplane/proxy/downstream_session.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dataplane/proxy/forwarded_head.h"
#include "dataplane/proxy/worker.h"

namespace meshgate::dp {

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kInitialInput = 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

using Steady = std::chrono::steady_clock;

bool isIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

// Splits "a=1&b=2" into pairs (no percent-decoding: matches compare the raw text, as the
// Gateway API leaves decoding to the implementation and raw comparison cannot be fooled by
// double encoding).
void splitQuery(std::string_view query,
                std::vector<std::pair<std::string_view, std::string_view>>& out) {
  out.clear();
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (!item.empty()) {
      const size_t eq = item.find('=');
      if (eq == std::string_view::npos)
        out.emplace_back(item, std::string_view{});
      else
        out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

std::optional<std::string_view> cookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view item = header.substr(0, semi);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    if (item.size() > name.size() && item.substr(0, name.size()) == name &&
        item[name.size()] == '=')
      return item.substr(name.size() + 1);
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
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
  if (phase_ == Phase::Idle) stream_.cancel();
}

void DownstreamSession::abort() {
  closeWhenIdle_ = true;
  stream_.cancel();
  if (upstreamInUse_) upstreamInUse_->stream.cancel();
  if (connecting_) connecting_->cancel();
}

void DownstreamSession::onDeadline() {
  timedOut_ = true;
  switch (phase_) {
    case Phase::Handshake:
    case Phase::Idle:
    case Phase::HeaderRead:
    case Phase::Body:
      stream_.cancel();
      break;
    case Phase::Upstream:
      if (upstreamInUse_) upstreamInUse_->stream.cancel();
      if (connecting_) connecting_->cancel();
      break;
    case Phase::Response:
    case Phase::Tunnel:
      stream_.cancel();
      if (upstreamInUse_) upstreamInUse_->stream.cancel();
      break;
  }
}

void DownstreamSession::armIn(std::chrono::milliseconds timeout) {
  timedOut_ = false;
  if (timeout.count() <= 0)
    disarm();
  else
    arm(Steady::now() + timeout);
}

void DownstreamSession::compactInput() {
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
  }
  for (;;) {
    compactInput();
    if (closeWhenIdle_ && inStart_ == inEnd_) co_return;
    view_ = worker_.view();
    isHead_ = false;
    const ProxyConfig& config = view_->snapshot().config();
    const http::Limits limits{.maxRequestLineBytes = config.limits.maxRequestLineBytes,
                              .maxHeadBytes = config.limits.maxHeaderBytes,
                              .maxHeaders = config.limits.maxHeaders};
    const bool waiting = inStart_ == inEnd_;
    phase_ = waiting ? Phase::Idle : Phase::HeaderRead;
    armIn(waiting && requestsServed_ > 0 ? config.timeouts.idle : config.timeouts.headerRead);

    http::ParseStatus status;
    for (;;) {
      status = http::parseRequestHead(input(), limits, request_);
      if (status != http::ParseStatus::NeedMore) break;
      if (!co_await readMore()) {
        if (timedOut_ && phase_ == Phase::HeaderRead) {
          worker_.countBadRequest("header read timeout");
          co_await respondLocal(408, "request header timeout\n", false);
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
      co_await respondLocal(http::statusFor(status), body, false);
      co_return;
    }
    if (!co_await handleRequest()) co_return;
  }
}

asio::awaitable<bool> DownstreamSession::respondLocal(unsigned status, std::string_view body,
                                                      bool keepAlive,
                                                      std::string_view extraHeaders) {
  writeLocalResponse(responseHead_, status, isHead_ ? std::string_view{} : body, keepAlive,
                     extraHeaders);
  if (isHead_) {
    // A HEAD answer announces the GET body's length without sending it.
    const std::string length = "content-length: 0\r\n";
    const size_t at = responseHead_.find(length);
    if (at != std::string::npos)
      responseHead_.replace(at, length.size(),
                            "content-length: " + std::to_string(body.size()) + "\r\n");
  }
  phase_ = Phase::Response;
  armIn(view_->snapshot().config().timeouts.idle);
  const error_code ec = std::get<0>(co_await stream_.writeAll(asio::buffer(responseHead_)));
  bytesSent_ += responseHead_.size();
  co_return !ec && keepAlive;
}

asio::awaitable<bool> DownstreamSession::bufferBody(uint64_t length) {
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

RequestHash DownstreamSession::requestHash(const Cluster& cluster) const {
  switch (cluster.hashSource) {
    case HashSource::None:
      return std::nullopt;
    case HashSource::SourceIP:
      return RingHash::hashKey(peerIp_);
    case HashSource::Header:
      if (auto value = routingView_.header(cluster.hashName)) return RingHash::hashKey(*value);
      return std::nullopt;
    case HashSource::Cookie:
      if (auto header = routingView_.header("cookie"))
        if (auto value = cookieValue(*header, cluster.hashName)) return RingHash::hashKey(*value);
      return std::nullopt;
  }
  return std::nullopt;
}

asio::awaitable<bool> DownstreamSession::redirect(const CompiledRule& rule) {
  const bool keepAlive = request_.keepAlive && request_.framing == http::BodyFraming::None;
  std::string location;
  unsigned status = 302;
  const std::string host = [&] {
    std::string_view h = request_.host;
    if (!h.empty() && h.front() != '[') h = h.substr(0, h.find(':'));
    return std::string(h);
  }();
  if (rule.redirect) {
    const api::Redirect& r = *rule.redirect;
    const std::string scheme = r.scheme.value_or(stream_.tls() ? "https" : "http");
    location = scheme + "://" + r.hostname.value_or(host);
    if (r.port) {
      const bool standard =
          (scheme == "http" && *r.port == 80) || (scheme == "https" && *r.port == 443);
      if (!standard) location += ":" + std::to_string(*r.port);
    }
    location += r.path.value_or(std::string(request_.target));
    if (r.statusCode) status = static_cast<unsigned>(*r.statusCode);
  } else {
    location = "https://" + host + std::string(request_.target);
    status = 301;
  }
  finishRequest(status, &rule, std::nullopt);
  co_return co_await respondLocal(status, "", keepAlive, "location: " + location + "\r\n");
}

asio::awaitable<bool> DownstreamSession::handleRequest() {
  requestStart_ = Steady::now();
  requestsServed_++;
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
  responseStarted_ = false;
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

  const bool hasBody = request_.framing != http::BodyFraming::None;
  const CompiledRule* rule = snapshot.select(routingView_);
  if (!rule) {
    finishRequest(404, nullptr, std::nullopt);
    co_return co_await respondLocal(404, "no route for this host and path\n",
                                    request_.keepAlive && !hasBody);
  }
  if ((rule->redirectToHttps && !stream_.tls()) || rule->redirect)
    co_return co_await redirect(*rule);

  // The upstream head, built once for every attempt.
  std::string_view path = request_.path;
  if (rule->rewritePathPrefix) {
    for (const auto& prefix : rule->pathPrefixes) {
      if (!pathPrefixMatches(prefix, path)) continue;
      std::string_view rest = path.substr(std::min(path.size(), prefix.size()));
      if (prefix.size() > 1 && prefix.back() == '/') rest = path.substr(prefix.size() - 1);
      rewrittenPath_ = *rule->rewritePathPrefix;
      if (!rest.empty() && rest.front() == '/' && !rewrittenPath_.empty() &&
          rewrittenPath_.back() == '/')
        rewrittenPath_.pop_back();
      rewrittenPath_.append(rest);
      if (rewrittenPath_.empty()) rewrittenPath_ = "/";
      path = rewrittenPath_;
      break;
    }
  }
  requestId_.clear();
  if (!routingView_.header("x-request-id")) worker_.newRequestId(requestId_);
  const RequestForwarding forwarding{
      .path = path,
      .query = request_.query,
      .host = rule->rewriteHostname ? std::string_view(*rule->rewriteHostname) : request_.host,
      .clientIp = peerIp_,
      .requestId = requestId_,
      .tls = stream_.tls(),
      .edits = rule->requestHeaders.empty() ? nullptr : &rule->requestHeaders};
  writeUpstreamRequestHead(upstreamHead_, request_, forwarding);
  if (requestId_.empty())
    requestId_.assign(routingView_.header("x-request-id").value_or(std::string_view{}));

  const auto backend = view_->pickBackend(*rule);
  if (!backend) {
    finishRequest(503, rule, std::nullopt);
    co_return co_await respondLocal(503, "no backend with weight\n",
                                    request_.keepAlive && !hasBody);
  }
  const BackendRef& ref = rule->backends[*backend];
  const Cluster& cluster = snapshot.clusters()[ref.cluster];
  const RetryPolicy& retry = rule->retries ? *rule->retries : *cluster.retries;
  const auto timeout = rule->timeout ? rule->timeout : cluster.timeout;
  const std::chrono::milliseconds requestTimeout = timeout.value_or(config.timeouts.request);
  requestDeadline_ =
      requestTimeout.count() > 0 ? requestStart_ + requestTimeout : SteadyTime::max();
  perTryTimeout_ = rule->perTryTimeout ? rule->perTryTimeout : cluster.perTryTimeout;

  auto requestSlot = cluster.breaker->tryAcquire(CircuitBreaker::Resource::Requests);
  if (!requestSlot) {
    cluster.overflow[static_cast<size_t>(CircuitBreaker::Resource::Requests)]->inc();
    finishRequest(503, rule, *backend);
    co_return co_await respondLocal(503, "upstream overflow: too many requests\n",
                                    request_.keepAlive && !hasBody, "x-meshgate-overflow: 1\r\n");
  }

  const RequestHash hash = requestHash(cluster);

  // Body: small Content-Length bodies are read whole first, so that a failed attempt can be
  // replayed; larger or chunked ones stream and are not retried.
  if (request_.framing == http::BodyFraming::ContentLength) {
    if (request_.contentLength > config.limits.maxBodyBytes) {
      finishRequest(413, rule, std::nullopt);
      co_return co_await respondLocal(413, "request body too large\n", false);
    }
    if (request_.contentLength <= config.limits.maxRetryBufferBytes) {
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
      finishRequest(400, rule, std::nullopt);
      co_return co_await respondLocal(400, "invalid chunked body\n", false);
    }
    bodyBuffered_ = result.consumed;
    bodyComplete_ = result.status == http::ChunkedDecoder::Status::Done;
    if (chunked_.payloadBytes() > config.limits.maxBodyBytes) {
      finishRequest(413, rule, std::nullopt);
      co_return co_await respondLocal(413, "request body too large\n", false);
    }
  } else {
    bodyComplete_ = true;
  }

  std::optional<size_t> lastEndpoint;
  std::optional<CircuitBreaker::Slot> retrySlot;
  unsigned attempts = 0;
  unsigned status = 0;
  bool keepClient = request_.keepAlive;
  for (;;) {
    const auto endpoint = view_->pickEndpoint(*rule, *backend, hash, lastEndpoint);
    if (!endpoint) {
      status = 503;
      co_await respondLocal(503, "no endpoint\n", false);
      keepClient = false;
      break;
    }
    attempts++;
    const bool mayRetry = bodyComplete_ && attempts < retry.maxAttempts();
    AttemptResult result =
        co_await tryUpstream(*rule, *backend, *endpoint, mayRetry ? &retry : nullptr, attempts);
    status = result.status;
    if (!result.retry) {
      keepClient = keepClient && result.keepClient;
      break;
    }
    retrySlot.reset();
    retrySlot = cluster.breaker->tryAcquire(CircuitBreaker::Resource::Retries);
    if (!retrySlot) {
      cluster.overflow[static_cast<size_t>(CircuitBreaker::Resource::Retries)]->inc();
      status = result.status ? result.status : 503;
      keepClient = co_await respondLocal(status, "upstream failed; retry budget exhausted\n",
                                         keepClient, "x-meshgate-overflow: 1\r\n");
      break;
    }
    cluster.retried->inc();
    asio::steady_timer backoff(co_await asio::this_coro::executor);
    backoff.expires_after(retry.backoff(attempts, view_->random()));
    co_await backoff.async_wait(kNoThrow);
    lastEndpoint = *endpoint;
  }
  finishRequest(status, rule, *backend);
  if (!bodyConsumed_) {
    if (bodyComplete_)
      inStart_ = bodyStart_ + bodyBuffered_;
    else
      keepClient = false;  // the rest of the body was never read: the stream cannot resync
  }
  co_return keepClient && !closeWhenIdle_;
}

asio::awaitable<UpstreamConnectionPtr> DownstreamSession::connect(const Cluster& cluster,
                                                                  const UpstreamEndpoint& endpoint,
                                                                  AttemptFailure& failure) {
  auto connectionSlot = cluster.breaker->tryAcquire(CircuitBreaker::Resource::Connections);
  if (!connectionSlot) {
    cluster.overflow[static_cast<size_t>(CircuitBreaker::Resource::Connections)]->inc();
    failure = AttemptFailure::Overflow;
    co_return nullptr;
  }
  auto pendingSlot = cluster.breaker->tryAcquire(CircuitBreaker::Resource::PendingRequests);
  if (!pendingSlot) {
    cluster.overflow[static_cast<size_t>(CircuitBreaker::Resource::PendingRequests)]->inc();
    failure = AttemptFailure::Overflow;
    co_return nullptr;
  }
  tcp::socket socket(co_await asio::this_coro::executor);
  connecting_ = &socket;
  arm(std::min(attemptDeadline_, Steady::now() + cluster.config->connectTimeout));
  timedOut_ = false;
  auto [ec] = co_await socket.async_connect(endpoint.address, kNoThrow);
  connecting_ = nullptr;
  if (ec) {
    cluster.connectErrors->inc();
    failure = AttemptFailure::ConnectFailure;
    co_return nullptr;
  }
  arm(attemptDeadline_);
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto connection = std::make_unique<UpstreamConnection>(
      cluster.tls ? ByteStream(std::move(socket), *cluster.tls) : ByteStream(std::move(socket)));
  connection->connectionSlot = std::move(connectionSlot);
  connection->keepAlive = view_->snapshotPtr();
  connection->active = cluster.connectionsActive;
  cluster.connectionsActive->inc();
  cluster.connectionsOpened->inc();
  if (cluster.tls) {
    upstreamInUse_ = connection.get();
    const error_code handshake =
        co_await connection->stream.handshakeAsClient(cluster.config->tls->serverName);
    upstreamInUse_ = nullptr;
    if (handshake) {
      cluster.connectErrors->inc();
      failure = AttemptFailure::ConnectFailure;
      co_return nullptr;
    }
  }
  co_return connection;
}

asio::awaitable<bool> DownstreamSession::streamRequestBody(ByteStream& upstream) {
  // Everything before the unread rest of the body was sent with the head.
  inStart_ = bodyStart_ + bodyBuffered_;
  const uint64_t maxBody = view_->snapshot().config().limits.maxBodyBytes;
  const auto idle = view_->snapshot().config().timeouts.idle;
  if (request_.expectContinue && !sentContinue_ && inStart_ == inEnd_) {
    sentContinue_ = true;
    if (failed(co_await stream_.writeAll(asio::buffer(kContinue)))) co_return false;
  }
  for (;;) {
    const bool chunked = request_.framing == http::BodyFraming::Chunked;
    if (!chunked && bodyRemaining_ == 0) break;
    if (inStart_ == inEnd_) {
      phase_ = Phase::Body;
      armIn(idle);
      if (!co_await readMore()) co_return false;
    }
    const std::string_view data = input();
    size_t take = 0;
    bool done = false;
    if (chunked) {
      const auto result = chunked_.consume(data);
      if (result.status == http::ChunkedDecoder::Status::Error) co_return false;
      if (chunked_.payloadBytes() > maxBody) co_return false;
      take = result.consumed;
      done = result.status == http::ChunkedDecoder::Status::Done;
    } else {
      take = static_cast<size_t>(std::min<uint64_t>(data.size(), bodyRemaining_));
      bodyRemaining_ -= take;
    }
    phase_ = Phase::Upstream;
    arm(attemptDeadline_);
    if (failed(co_await upstream.writeAll(asio::buffer(data.data(), take)))) co_return false;
    inStart_ += take;
    if (done) break;
  }
  bodyConsumed_ = true;
  co_return true;
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

asio::awaitable<DownstreamSession::AttemptResult> DownstreamSession::tryUpstream(
    const CompiledRule& rule, size_t backendIndex, size_t endpointIndex, const RetryPolicy* retry,
    unsigned attempts) {
  const Snapshot& snapshot = view_->snapshot();
  const ProxyConfig& config = snapshot.config();
  const BackendRef& ref = rule.backends[backendIndex];
  const Cluster& cluster = snapshot.clusters()[ref.cluster];
  const UpstreamEndpoint& endpoint = cluster.endpoints[endpointIndex];
  upstreamAddress_ = endpoint.key;
  const std::string& poolKey = endpoint.key;

  view_->started(ref.cluster, endpointIndex);
  struct Finished {
    WorkerView& view;
    size_t cluster, endpoint;
    ~Finished() { view.finished(cluster, endpoint); }
  } finished{*view_, ref.cluster, endpointIndex};

  phase_ = Phase::Upstream;
  attemptDeadline_ = perTryTimeout_ ? std::min(requestDeadline_, Steady::now() + *perTryTimeout_)
                                    : requestDeadline_;
  arm(attemptDeadline_);
  timedOut_ = false;

  const auto attemptFailed = [&](AttemptOutcome outcome) -> AttemptResult {
    if (cluster.outliers) cluster.outliers->reportError(endpointIndex);
    // Connect failures were counted by connect().
    if (outcome == AttemptOutcome::Timeout) cluster.timeoutErrors->inc();
    if (outcome == AttemptOutcome::Reset) cluster.resetErrors->inc();
    AttemptResult result;
    result.status = outcome == AttemptOutcome::Timeout ? 504 : 502;
    result.retry = retry && retry->shouldRetry(outcome, 0, attempts);
    result.outcome = outcome;
    return result;
  };

  // Connection: a pooled one first. A pooled connection the server closed at the very moment we
  // reused it fails without a response byte; such a request is replayed once on a new
  // connection when its body is buffered, without counting as a retry.
  UpstreamConnectionPtr connection = worker_.pool().take(poolKey);
  bool reused = connection != nullptr;
  PooledBuffer upBuffer(worker_);
  std::vector<char>& up = upBuffer.bytes;
  size_t upEnd = 0;
  for (;;) {
    if (!connection) {
      AttemptFailure failure = AttemptFailure::ConnectFailure;
      connection = co_await connect(cluster, endpoint, failure);
      if (!connection) {
        if (failure == AttemptFailure::Overflow) {
          AttemptResult result;
          result.status = 503;
          result.keepClient = co_await respondLocal(503, "upstream overflow: connections\n",
                                                    request_.keepAlive && bodyComplete_,
                                                    "x-meshgate-overflow: 1\r\n");
          co_return result;
        }
        if (timedOut_ && Steady::now() >= attemptDeadline_) goto timeout;
        {
          AttemptResult result = attemptFailed(AttemptOutcome::ConnectFailure);
          if (!result.retry)
            result.keepClient = co_await respondLocal(503, "upstream connect failure\n",
                                                      request_.keepAlive && bodyComplete_);
          result.status = 503;
          co_return result;
        }
      }
    }
    upstreamInUse_ = connection.get();
    connection->requests++;
    {
      std::array<asio::const_buffer, 2> head = {
          asio::buffer(upstreamHead_), asio::buffer(in_.data() + bodyStart_, bodyBuffered_)};
      error_code ec;
      if (!connection->stream.writeNow(head))
        ec = std::get<0>(co_await connection->stream.writeAll(head));
      bool ok = !ec;
      if (ok && !bodyComplete_) ok = co_await streamRequestBody(connection->stream);
      if (!ok && !bodyComplete_) {
        // A streamed body failed halfway: neither side can be resynchronized.
        upstreamInUse_ = nullptr;
        AttemptResult result =
            attemptFailed(timedOut_ ? AttemptOutcome::Timeout : AttemptOutcome::Reset);
        result.retry = false;
        result.keepClient = false;
        if (!responseStarted_)
          co_await respondLocal(result.status, "upstream request failed\n", false);
        co_return result;
      }
      if (ok) {
        // Response head.
        const http::Limits limits{.maxRequestLineBytes = config.limits.maxRequestLineBytes,
                                  .maxHeadBytes = config.limits.maxHeaderBytes,
                                  .maxHeaders = config.limits.maxHeaders};
        upEnd = 0;
        http::ParseStatus parsed = http::ParseStatus::NeedMore;
        for (;;) {
          parsed = http::parseResponseHead({up.data(), upEnd}, method_, limits, response_);
          if (parsed == http::ParseStatus::Complete && response_.status < 200 &&
              response_.status != 101) {
            // Interim responses (100, 103) are not forwarded: the proxy answered Expect itself.
            std::memmove(up.data(), up.data() + response_.headBytes, upEnd - response_.headBytes);
            upEnd -= response_.headBytes;
            continue;
          }
          if (parsed != http::ParseStatus::NeedMore) break;
          if (up.size() - upEnd < 1024) {
            if (up.size() >= config.limits.maxHeaderBytes + 1024u) break;
            up.resize(up.size() * 2);
          }
          auto [readError, n] = co_await connection->stream.readSome(
              asio::buffer(up.data() + upEnd, up.size() - upEnd));
          if (readError || n == 0) {
            ok = false;
            break;
          }
          upEnd += n;
        }
        if (ok && parsed != http::ParseStatus::Complete) {
          upstreamInUse_ = nullptr;
          if (cluster.outliers) cluster.outliers->reportError(endpointIndex);
          AttemptResult result;
          result.status = 502;
          result.keepClient = co_await respondLocal(
              502, "invalid upstream response: " + std::string(http::describe(parsed)) + "\n",
              request_.keepAlive && bodyComplete_);
          co_return result;
        }
      }
      if (!ok) {
        upstreamInUse_ = nullptr;
        const bool nothingReceived = upEnd == 0;
        if (reused && nothingReceived && bodyComplete_ && !timedOut_ && isIdempotent(method_)) {
          connection.reset();
          reused = false;
          continue;  // the stale pooled connection: replay once on a new one
        }
        if (timedOut_) goto timeout;
        AttemptResult result = attemptFailed(AttemptOutcome::Reset);
        if (!result.retry)
          result.keepClient = co_await respondLocal(502, "upstream connection reset\n",
                                                    request_.keepAlive && bodyComplete_);
        co_return result;
      }
    }
    break;
  }

  {
    const unsigned status = response_.status;
    if (cluster.outliers) {
      if (status >= 500)
        cluster.outliers->reportError(endpointIndex);
      else
        cluster.outliers->reportSuccess(endpointIndex);
    }
    if (retry && retry->shouldRetry(AttemptOutcome::Response, status, attempts)) {
      upstreamInUse_ = nullptr;
      AttemptResult result;
      result.status = status;
      result.retry = true;
      co_return result;  // the connection closes with its unread body
    }

    // Forward the response.
    phase_ = Phase::Response;
    responseStarted_ = true;
    arm(requestDeadline_ != SteadyTime::max() ? requestDeadline_
                                              : Steady::now() + config.timeouts.idle);
    const bool upgraded = request_.upgrade && status == 101;
    http::BodyFraming framing = isHead_ ? http::BodyFraming::None : response_.framing;
    bool keepClient = request_.keepAlive && !closeWhenIdle_ &&
                      framing != http::BodyFraming::UntilClose && !upgraded;
    if (!bodyComplete_ && !bodyConsumed_) keepClient = false;
    writeDownstreamResponseHead(
        responseHead_, response_,
        {.clientVersionMinor = request_.versionMinor,
         .keepAlive = keepClient,
         .edits = rule.responseHeaders.empty() ? nullptr : &rule.responseHeaders});
    const size_t bodyAt = response_.headBytes;
    size_t available = upEnd - bodyAt;
    bool upstreamReusable = response_.keepAlive && !upgraded;
    AttemptResult result;
    result.status = status;

    if (upgraded) {
      std::array<asio::const_buffer, 2> out = {asio::buffer(responseHead_),
                                               asio::buffer(up.data() + bodyAt, available)};
      if (!failed(co_await stream_.writeAll(out))) co_await tunnel(connection->stream);
      upstreamInUse_ = nullptr;
      result.keepClient = false;
      co_return result;
    }

    uint64_t remaining = 0;
    http::ChunkedDecoder responseChunks;
    size_t send = 0;
    bool done = false;
    switch (framing) {
      case http::BodyFraming::None:
        done = true;
        if (available > 0) upstreamReusable = false;  // bytes nobody asked for
        break;
      case http::BodyFraming::ContentLength:
        send = static_cast<size_t>(std::min<uint64_t>(available, response_.contentLength));
        remaining = response_.contentLength - send;
        done = remaining == 0;
        if (available > send) upstreamReusable = false;
        break;
      case http::BodyFraming::Chunked: {
        const auto r = responseChunks.consume({up.data() + bodyAt, available});
        if (r.status == http::ChunkedDecoder::Status::Error) {
          upstreamReusable = false;
          keepClient = false;
        }
        send = r.consumed;
        done = r.status != http::ChunkedDecoder::Status::NeedMore;
        if (available > send) upstreamReusable = false;
        break;
      }
      case http::BodyFraming::UntilClose:
        send = available;
        upstreamReusable = false;
        break;
    }
    if (isHead_ && response_.framing != http::BodyFraming::None) {
      // A HEAD response announces a body it does not carry; the upstream connection is fine.
      send = 0;
      if (available > 0) upstreamReusable = false;
    }
    std::array<asio::const_buffer, 2> out = {asio::buffer(responseHead_),
                                             asio::buffer(up.data() + bodyAt, send)};
    bool clientOk = true;
    if (!stream_.writeNow(out)) clientOk = !failed(co_await stream_.writeAll(out));
    bytesSent_ += responseHead_.size() + send;
    bool upstreamOk = true;
    while (clientOk && !done) {
      auto [readError, n] = co_await connection->stream.readSome(asio::buffer(up));
      if (readError || n == 0) {
        upstreamOk = false;
        if (framing == http::BodyFraming::UntilClose && !readError) done = true;
        if (framing == http::BodyFraming::UntilClose && readError == asio::error::eof) done = true;
        break;
      }
      size_t chunk = n;
      if (framing == http::BodyFraming::ContentLength) {
        chunk = static_cast<size_t>(std::min<uint64_t>(n, remaining));
        remaining -= chunk;
        done = remaining == 0;
        if (n > chunk) upstreamReusable = false;
      } else if (framing == http::BodyFraming::Chunked) {
        const auto r = responseChunks.consume({up.data(), n});
        if (r.status == http::ChunkedDecoder::Status::Error) {
          upstreamOk = false;
          break;
        }
        chunk = r.consumed;
        done = r.status == http::ChunkedDecoder::Status::Done;
        if (n > chunk) upstreamReusable = false;
      }
      if (requestDeadline_ == SteadyTime::max()) arm(Steady::now() + config.timeouts.idle);
      clientOk = !failed(co_await stream_.writeAll(asio::buffer(up.data(), chunk)));
      bytesSent_ += chunk;
    }
    upstreamInUse_ = nullptr;
    if (!done || !upstreamOk) {
      // The response was cut: the client must see the connection end rather than wait.
      keepClient = false;
      upstreamReusable = upstreamReusable && upstreamOk && done;
    }
    if (!clientOk) keepClient = false;
    if (upstreamReusable && done && upstreamOk && clientOk)
      worker_.pool().give(poolKey, std::move(connection), cluster.config->pool.maxIdlePerEndpoint,
                          cluster.config->pool.idleTimeout);
    result.keepClient = keepClient;
    co_return result;
  }

timeout : {
  upstreamInUse_ = nullptr;
  AttemptResult result = attemptFailed(AttemptOutcome::Timeout);
  if (!result.retry)
    result.keepClient =
        co_await respondLocal(504, "upstream timeout\n", request_.keepAlive && bodyComplete_);
  co_return result;
}
}

void DownstreamSession::finishRequest(unsigned status, const CompiledRule* rule,
                                      std::optional<size_t> backend) {
  if (rule) {
    if (backend)
      rule->backends[*backend].counters.count(status);
    else
      rule->directCounters.count(status);
    if (rule->latency)
      rule->latency->observe(std::chrono::duration<double>(Steady::now() - requestStart_).count());
  } else {
    worker_.countUnrouted(status);
  }
  if (worker_.accessLogEnabled())
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
         .listener = listenerName_});
}

}  // namespace meshgate::dp
