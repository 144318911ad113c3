// One HTTP/2 request stream through the request path, out over HTTP/1.1.
#include "dataplane/proxy/http2_exchange.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/ascii.h"
#include "base/assert.h"
#include "dataplane/proxy/forwarded_head.h"
#include "dataplane/proxy/grpc_protocol.h"
#include "dataplane/proxy/http2_connection.h"
#include "dataplane/proxy/http2_local_reply.h"
#include "dataplane/proxy/mesh_table.h"
#include "dataplane/proxy/request_routing.h"
#include "dataplane/proxy/upstream_http2_connection.h"
#include "dataplane/proxy/upstream_router.h"
#include "dataplane/proxy/worker.h"

namespace meshgate::dp {

namespace {

using Steady = std::chrono::steady_clock;

constexpr uint32_t kInternalError = 2;  // RST_STREAM INTERNAL_ERROR
constexpr uint32_t kCancel = 8;         // RST_STREAM CANCEL

// The request asks for 100 (Continue) before it sends its body.
bool expectsContinue(const http2::RequestHead& head) {
  for (const auto& field : head.headers)
    if (field.name == "expect" && asciiEqualsIgnoreCase(field.value, "100-continue")) return true;
  return false;
}

// Payload and trailers of a chunked upstream body, for the HTTP/2 stream.
class StreamSink final : public http::ChunkedDecoder::Sink {
 public:
  StreamSink(http2::ServerCodec& codec, int32_t stream) : codec_(codec), stream_(stream) {}
  void payload(std::string_view data) override { codec_.appendBody(stream_, data, false); }
  void trailerText(std::string_view text) override { trailers.append(text); }
  std::string trailers;

 private:
  http2::ServerCodec& codec_;
  int32_t stream_;
};

}  // namespace

Http2Exchange::Http2Exchange(Http2Connection& connection, int32_t stream, http2::RequestHead head)
    : connection_(connection),
      worker_(connection.worker()),
      stream_(stream),
      head_(std::move(head)),
      wake_(worker_.context()) {
  worker_.sweeper().add(*this);
  requestEnded_ = head_.endStream;
  // Strings that grow as a request is forwarded, with the capacity an earlier request left.
  upstreamHead_ = worker_.takeString();
  requestId_ = worker_.takeString();
}

Http2Exchange::~Http2Exchange() {
  worker_.giveString(std::move(upstreamHead_));
  worker_.giveString(std::move(requestId_));
}

asio::awaitable<void> Http2Exchange::serve(std::shared_ptr<Http2Exchange> exchange) {
  // co_spawn runs a coroutine inline up to its first suspension, here from inside the codec's
  // receive(): the exchange starts once the rest of that read was processed instead, so that a
  // RST_STREAM right behind the HEADERS (rapid reset) finds it before it did anything.
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_await exchange->handle();
  exchange->disarm();
  exchange->connection_.exchangeFinished();
}

void Http2Exchange::wake() {
  eventPending_ = true;
  wake_.cancel();
}

asio::awaitable<void> Http2Exchange::waitForEvent() {
  if (!eventPending_) {
    wake_.expires_at(SteadyTime::max());
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  eventPending_ = false;
}

void Http2Exchange::onData(std::span<const char> data) {
  if (replied_) {
    connection_.codec().consumed(stream_, data.size());
    return;
  }
  bodyReceived_ += data.size();
  pending_.append(data.data(), data.size());
  wake();
}

void Http2Exchange::onEnd(std::vector<http2::Field> trailers) {
  requestEnded_ = true;
  requestTrailers_ = std::move(trailers);
  wake();
}

void Http2Exchange::onClosed(uint32_t) {
  closed_ = true;
  abort();
  aborted_ = false;  // closed_ says it; abort() only cancelled the I/O
}

void Http2Exchange::onWritable() {
  wake();
  if (watch_.http2) watch_.http2->cancel();  // a relay from an HTTP/2 upstream waits there
}

void Http2Exchange::abort() {
  aborted_ = true;
  watch_.cancelAll();
  wake();
}

void Http2Exchange::onDeadline() {
  watch_.timedOut = true;
  watch_.cancelAll();
  wake();
}

void Http2Exchange::finish(unsigned status, const CompiledRule* rule,
                           std::optional<size_t> backend) {
  countFinishedRequest(worker_, status, rule, backend, start_);
  if (!worker_.accessLogEnabled()) return;
  std::string target = head_.path;
  if (!filterState_.secretQueryParameter.empty())
    redactQueryParameter(target, filterState_.secretQueryParameter);
  const Http2ConnectionInfo& info = connection_.info();
  worker_.logAccess(
      {.method = head_.method,
       .target = target,
       .host = head_.authority,
       .status = status,
       .durationMicros = static_cast<uint64_t>(
           std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - start_).count()),
       .route = rule ? std::string_view(rule->statName) : std::string_view("-"),
       .upstream = upstreamAddress_,
       .client = info.peerIp,
       .requestId = requestId_,
       .listener = info.listenerName,
       .identity = filterState_.identity});
}

void Http2Exchange::reply(const LocalReply& local, const CompiledRule* rule,
                          std::optional<size_t> backend) {
  finish(local.status, rule, backend);
  if (gone()) return;
  LocalReply withFilters = local;
  appendHeaderLines(withFilters.extraHeaders, filterState_.responseHeaders);
  const Http2LocalReply out = toHttp2(withFilters, grpc_, headRequest_);
  http2::ServerCodec& codec = connection_.codec();
  codec.submitResponse(stream_, out.status, out.headers, out.body.empty());
  if (!out.body.empty()) codec.appendBody(stream_, out.body, true);
  // A request body still arriving is discarded (onData) until the codec, having sent the whole
  // reply, resets the stream with NO_ERROR.
  replied_ = true;
  connection_.wakeWriter();
}

asio::awaitable<void> Http2Exchange::handle() {
  start_ = Steady::now();
  view_ = worker_.view();
  const ActiveRequest active(worker_);
  const Snapshot& snapshot = view_->snapshot();
  const ProxyConfig& config = snapshot.config();
  const Http2ConnectionInfo& info = connection_.info();
  headRequest_ = head_.method == "HEAD";

  // The request as both the routing and the HTTP/1.1 head writer see it.
  std::string_view path = head_.path;
  std::string_view query;
  if (const size_t mark = path.find('?'); mark != std::string_view::npos) {
    query = path.substr(mark + 1);
    path = path.substr(0, mark);
  }
  routingView_.method = head_.method;
  routingView_.host = head_.authority;
  routingView_.path = path;
  splitQuery(query, routingView_.query);
  routingView_.headers.clear();
  request_.headers.clear();
  bool cookies = false;
  for (const auto& field : head_.headers) {
    if (field.name == "cookie") {
      // HTTP/2 may split cookies into crumbs (RFC 9113 8.2.3); HTTP/1.1 carries one header.
      if (cookies) cookie_.append("; ");
      cookie_.append(field.value);
      cookies = true;
      continue;
    }
    if (field.name == "content-type") grpc_ = isGrpcContentType(field.value);
    routingView_.headers.emplace_back(field.name, field.value);
    request_.headers.push_back({field.name, field.value});
  }
  if (cookies) {
    routingView_.headers.emplace_back("cookie", cookie_);
    request_.headers.push_back({"cookie", cookie_});
  }
  request_.method = head_.method;
  request_.target = head_.path;
  request_.path = path;
  request_.query = query;
  request_.host = head_.authority;
  request_.versionMinor = 1;
  request_.keepAlive = true;

  if (head_.method == "CONNECT") {
    reply(makeLocalReply(501, "CONNECT is not supported over HTTP/2\n"), nullptr, std::nullopt);
    co_return;
  }
  if (head_.authority.empty()) {
    worker_.countBadRequest("missing :authority");
    reply(makeLocalReply(400, "missing :authority\n"), nullptr, std::nullopt);
    co_return;
  }

  const CompiledRule* rule = nullptr;
  if (info.mesh) {
    LocalReply refusal;
    rule = routeMeshRequest(snapshot, *info.mesh, head_.authority, worker_.stats(), refusal);
    if (!rule) {
      reply(refusal, nullptr, std::nullopt);
      co_return;
    }
    if (info.mesh->role == api::ListenerRole::kMeshInbound && info.mesh->peerIdentity)
      filterState_.requestHeaders.emplace_back(kPeerIdentityHeader, *info.mesh->peerIdentity);
  } else {
    rule = snapshot.select(routingView_);
    if (!rule) {
      reply(makeLocalReply(404, "no route for this host and path\n"), nullptr, std::nullopt);
      co_return;
    }
  }
  {
    LocalReply filtered;
    const FilterContext context{.request = routingView_,
                                .target = head_.path,
                                .clientIp = info.peerIp,
                                .tls = info.tls,
                                .worker = worker_.index(),
                                .state = filterState_};
    if (runFilters(rule->filters, context, filtered) == FilterStatus::Reply) {
      reply(filtered, rule, std::nullopt);
      co_return;
    }
  }

  const auto backend = view_->pickBackend(*rule);
  if (!backend) {
    reply(makeLocalReply(503, "no backend with weight\n"), rule, std::nullopt);
    co_return;
  }
  const BackendRef& ref = rule->backends[*backend];
  const Cluster& cluster = snapshot.clusters()[ref.cluster];
  const auto timeout = rule->timeout ? rule->timeout : cluster.timeout;
  std::chrono::milliseconds requestTimeout = timeout.value_or(config.timeouts.request);
  // A gRPC client's deadline (grpc-timeout) shortens the route's timeout, never lengthens it.
  if (grpc_) {
    if (const auto header = routingView_.header("grpc-timeout"))
      if (const auto parsed = parseGrpcTimeout(*header)) {
        // 0 means "no timeout" to the proxy; a zero grpc-timeout is due at once.
        const auto deadline = std::max(*parsed, std::chrono::milliseconds(1));
        if (requestTimeout.count() == 0 || deadline < requestTimeout) requestTimeout = deadline;
      }
  }
  const SteadyTime requestDeadline =
      requestTimeout.count() > 0 ? start_ + requestTimeout : SteadyTime::max();

  auto requestSlot = cluster.breaker->tryAcquire(CircuitBreaker::Resource::Requests);
  if (!requestSlot) {
    cluster.overflow[static_cast<size_t>(CircuitBreaker::Resource::Requests)]->inc();
    reply(makeLocalReply(503, "upstream overflow: too many requests\n", kOverflowHeader), rule,
          *backend);
    co_return;
  }
  const RequestHash hash = requestHash(cluster, routingView_, info.peerIp);

  // Body: up to the replay limit it is read whole first, so a failed attempt can be replayed;
  // beyond it, it streams and is not retried.
  BodyBufferLease bodyLease(worker_);
  std::string contentLength;
  // Not requestEnded_: the whole body may have arrived (in the read that carried the HEADERS)
  // before the exchange started; it must still be checked, counted and sent.
  if (head_.endStream) {
    bodyComplete_ = true;
    request_.framing = http::BodyFraming::None;
  } else {
    if (head_.contentLength && *head_.contentLength > config.limits.maxBodyBytes) {
      reply(makeLocalReply(413, "request body too large\n"), rule, std::nullopt);
      co_return;
    }
    const uint64_t replayLimit = config.limits.maxRetryBufferBytes;
    const bool replayable = !head_.contentLength || *head_.contentLength <= replayLimit;
    if (replayable && !bodyLease.reserve(replayLimit)) {
      reply(makeLocalReply(503, "over capacity: buffered request bodies\n", "retry-after: 1\r\n"),
            rule, *backend);
      co_return;
    }
    // Expect is not forwarded: the proxy asks for the body itself, as it does for HTTP/1.1, or a
    // client that waits for 100 (Continue) sends it only after its own timeout.
    if (pending_.empty() && !requestEnded_ && expectsContinue(head_)) {
      connection_.codec().submitResponse(stream_, 100, {}, false);
      connection_.wakeWriter();
    }
    // While it is being buffered, the body's window reopens as it arrives (within the lease).
    connection_.codec().consumed(stream_, pending_.size());
    connection_.wakeWriter();  // the WINDOW_UPDATE goes out now
    size_t acknowledged = pending_.size();
    while (replayable && !requestEnded_ && pending_.size() <= replayLimit && !gone()) {
      watch_.timedOut = false;
      arm(Steady::now() + config.timeouts.idle);
      co_await waitForEvent();
      disarm();
      if (watch_.timedOut) {
        reply(makeLocalReply(408, "request body timeout\n"), rule, std::nullopt);
        co_return;
      }
      connection_.codec().consumed(stream_, pending_.size() - acknowledged);
      connection_.wakeWriter();
      acknowledged = pending_.size();
    }
    if (gone()) {
      finish(499, rule, std::nullopt);
      co_return;
    }
    if (bodyReceived_ > config.limits.maxBodyBytes) {
      reply(makeLocalReply(413, "request body too large\n"), rule, std::nullopt);
      co_return;
    }
    if (requestEnded_ && requestTrailers_.empty()) {
      // The whole body is here: it goes upstream with its length, and can be replayed.
      bodyComplete_ = true;
      framed_ = std::move(pending_);
      pending_.clear();
      request_.framing =
          framed_.empty() ? http::BodyFraming::None : http::BodyFraming::ContentLength;
      if (!head_.contentLength && !framed_.empty()) {
        contentLength = std::to_string(framed_.size());
        request_.headers.push_back({"content-length", contentLength});
      }
    } else if (!requestEnded_ && head_.contentLength) {
      request_.framing = http::BodyFraming::ContentLength;
      framed_ = std::move(pending_);
      pending_.clear();
    } else {
      // Chunked: a body that streams without a length, or a whole one with trailers, which
      // HTTP/1.1 carries only in the last chunk (the length it declared cannot go with chunks).
      std::erase_if(request_.headers, [](const http::Header& header) {
        return asciiEqualsIgnoreCase(header.name, "content-length");
      });
      request_.framing = http::BodyFraming::Chunked;
      request_.headers.push_back({"transfer-encoding", "chunked"});
      if (!pending_.empty()) writeChunk(framed_, pending_);
      pending_.clear();
      if (requestEnded_) {
        bodyComplete_ = true;  // and can still be replayed
        writeLastChunk(framed_, requestTrailers_);
      } else {
        chunkedUpstream_ = true;
      }
    }
  }

  // The upstream head, built once for every attempt.
  requestId_.clear();
  if (!routingView_.header("x-request-id")) worker_.newRequestId(requestId_);
  const RequestForwarding forwarding{
      .path = rewritePath(*rule, path, rewrittenPath_),
      .query = query,
      .host = rule->rewriteHostname ? std::string_view(*rule->rewriteHostname) : head_.authority,
      .clientIp = info.peerIp,
      .requestId = requestId_,
      .tls = info.tls,
      .edits = rule->requestHeaders.empty() ? nullptr : &rule->requestHeaders,
      .added = filterState_.requestHeaders.empty() ? nullptr : &filterState_.requestHeaders};
  writeUpstreamRequestHead(upstreamHead_, request_, forwarding);
  if (requestId_.empty())
    requestId_.assign(routingView_.header("x-request-id").value_or(std::string_view{}));

  // A stream the client reset before its request went anywhere — in the same read as its
  // HEADERS (rapid reset), or while its body was read — sends nothing upstream.
  if (gone()) {
    finish(499, rule, std::nullopt);
    co_return;
  }

  PooledBuffer upBuffer(worker_);
  const AttemptContext attemptContext{.worker = worker_,
                                      .deadline = *this,
                                      .watch = watch_,
                                      .snapshot = view_->snapshotPtr(),
                                      .limits = headLimits(config.limits)};
  const RouteRequest routeRequest{
      .rule = *rule,
      .backend = *backend,
      .hash = hash,
      .head = upstreamHead_,
      .method = head_.method,
      .upgrade = false,
      .body = *this,
      .requestDeadline = requestDeadline,
      .perTryTimeout = rule->perTryTimeout ? rule->perTryTimeout : cluster.perTryTimeout};
  RouteResult routed =
      co_await routeUpstream(attemptContext, *view_, routeRequest, upBuffer.bytes, response_);
  if (routed.endpoint) upstreamAddress_ = routed.endpoint->key;
  if (gone()) {
    finish(499, rule, *backend);
    co_return;
  }
  if (routed.reply) {
    reply(*routed.reply, rule, *backend);
    co_return;
  }
  MESHGATE_ASSERT(routed.response.error == AttemptError::None &&
                      (routed.response.connection || routed.response.http2),
                  "without a local reply the router returns a response to forward");
  if (routed.response.http2) {
    co_await relayHttp2Response(*routed.response.http2, *rule, requestDeadline);
    disarm();
    finish(routed.status, rule, *backend);
    co_return;
  }
  co_await forwardResponse(routed.response, upBuffer.bytes, cluster, routed.endpoint->poolKey,
                           *rule, requestDeadline);
  disarm();
  finish(routed.status, rule, *backend);
}

asio::awaitable<void> Http2Exchange::relayHttp2Response(UpstreamHttp2Stream& upstream,
                                                        const CompiledRule& rule,
                                                        SteadyTime requestDeadline) {
  http2::ServerCodec& codec = connection_.codec();
  const auto idle = view_->snapshot().config().timeouts.idle;
  const http::BodyFraming framing = headRequest_ ? http::BodyFraming::None : response_.framing;
  // Fields from the stream's head itself: describeResponse added HTTP/1.1 framing to response_.
  response_.headers.clear();
  for (const auto& field : upstream.head()->headers)
    response_.headers.push_back({field.name, field.value});
  collectHttp2ResponseFields(
      responseFields_, response_, rule.responseHeaders.empty() ? nullptr : &rule.responseHeaders,
      filterState_.responseHeaders.empty() ? nullptr : &filterState_.responseHeaders);
  const bool trailersOnly =
      upstream.ended() && upstream.body().empty() && upstream.trailers().empty();
  codec.submitResponse(stream_, response_.status, responseFields_,
                       framing == http::BodyFraming::None || trailersOnly);
  connection_.wakeWriter();
  if (framing == http::BodyFraming::None || trailersOnly) co_return;
  watch_.http2 = &upstream;
  bool complete = false;
  for (;;) {
    if (gone()) break;
    std::string& body = upstream.body();
    if (!body.empty() && codec.queuedBody(stream_) <= http2::ServerCodec::kHighWaterBytes) {
      const size_t bytes = body.size();
      codec.appendBody(stream_, body, false);
      body.clear();
      upstream.consumed(bytes);
      connection_.wakeWriter();
      continue;
    }
    if (body.empty() && upstream.ended()) {
      complete = true;
      break;
    }
    if (upstream.resetCode() || watch_.timedOut) break;
    watch_.timedOut = false;
    arm(std::min(requestDeadline, Steady::now() + idle));
    co_await upstream.wait();
  }
  watch_.http2 = nullptr;
  if (gone()) co_return;
  if (complete) {
    if (!upstream.trailers().empty())
      codec.submitTrailers(stream_, upstream.trailers());
    else
      codec.appendBody(stream_, {}, true);
  } else {
    codec.resetStream(stream_, kInternalError);
  }
  connection_.wakeWriter();
}

asio::awaitable<BodyOutcome> Http2Exchange::streamRest(BodyWriter& upstream) {
  MESHGATE_ASSERT(!bodyComplete_, "only a body that was not buffered whole streams");
  const ProxyConfig& config = view_->snapshot().config();
  const SteadyTime attemptDeadline = when();
  std::string sending;
  for (;;) {
    if (!pending_.empty()) {
      // Bytes arriving while the write is pending go to pending_ again.
      sending.clear();
      const size_t bytes = pending_.size();
      if (chunkedUpstream_)
        writeChunk(sending, pending_);
      else
        sending.swap(pending_);
      pending_.clear();
      if (bodyReceived_ > config.limits.maxBodyBytes) co_return BodyOutcome::TooLarge;
      if (!co_await upstream.write(sending)) co_return BodyOutcome::UpstreamFailed;
      if (!gone()) {
        connection_.codec().consumed(stream_, bytes);
        connection_.wakeWriter();
      }
      continue;
    }
    if (requestEnded_) break;
    if (gone()) co_return BodyOutcome::ClientClosed;
    watch_.timedOut = false;
    arm(Steady::now() + config.timeouts.idle);
    co_await waitForEvent();
    if (watch_.timedOut) co_return BodyOutcome::ClientTimeout;
    arm(attemptDeadline);
  }
  if (chunkedUpstream_) {
    // The last chunk carries the request's trailers. A body streamed with a content-length has
    // no place for them in HTTP/1.1: they are dropped, as a length-delimited body implies.
    sending.clear();
    writeLastChunk(sending, requestTrailers_);
    if (!co_await upstream.write(sending)) co_return BodyOutcome::UpstreamFailed;
  }
  co_return BodyOutcome::Done;
}

asio::awaitable<void> Http2Exchange::forwardResponse(AttemptResult& result, ReadBuffer& up,
                                                     const Cluster& cluster,
                                                     const std::string& poolKey,
                                                     const CompiledRule& rule,
                                                     SteadyTime requestDeadline) {
  http2::ServerCodec& codec = connection_.codec();
  const auto idle = view_->snapshot().config().timeouts.idle;
  UpstreamConnectionPtr connection = std::move(result.connection);
  ByteStream& upstream = connection->stream;
  watch_.connection = connection.get();
  const auto armForWait = [&] {
    watch_.timedOut = false;
    arm(std::min(requestDeadline, Steady::now() + idle));
  };

  const http::BodyFraming framing = headRequest_ ? http::BodyFraming::None : response_.framing;
  collectHttp2ResponseFields(
      responseFields_, response_, rule.responseHeaders.empty() ? nullptr : &rule.responseHeaders,
      filterState_.responseHeaders.empty() ? nullptr : &filterState_.responseHeaders);
  const size_t bodyAt = response_.headBytes;
  const size_t available = result.received - bodyAt;
  bool reusable = response_.keepAlive;
  codec.submitResponse(stream_, response_.status, responseFields_,
                       framing == http::BodyFraming::None);
  connection_.wakeWriter();

  StreamSink sink(codec, stream_);
  http::ChunkedDecoder chunks;
  uint64_t remaining = response_.contentLength;
  bool done = framing == http::BodyFraming::None;
  bool upstreamOk = true;
  if (done && available > 0) reusable = false;  // bytes nobody asked for follow the head
  // Body bytes of `data`; false on invalid chunked framing.
  const auto take = [&](std::string_view data) {
    switch (framing) {
      case http::BodyFraming::ContentLength: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), remaining));
        codec.appendBody(stream_, data.substr(0, n), false);
        remaining -= n;
        if (data.size() > n) reusable = false;
        done = remaining == 0;
        return true;
      }
      case http::BodyFraming::Chunked: {
        const auto r = chunks.consume(data, &sink);
        if (r.status == http::ChunkedDecoder::Status::Error) return false;
        if (r.consumed < data.size()) reusable = false;
        done = r.status == http::ChunkedDecoder::Status::Done;
        return true;
      }
      case http::BodyFraming::UntilClose:
        codec.appendBody(stream_, data, false);
        return true;
      case http::BodyFraming::None:
        return true;
    }
    return true;
  };
  if (!done && available > 0) upstreamOk = take({up.data() + bodyAt, available});
  while (!done && upstreamOk && !gone()) {
    // Backpressure: the upstream is read only while the client takes what was read.
    while (codec.queuedBody(stream_) > http2::ServerCodec::kHighWaterBytes && !gone()) {
      armForWait();
      connection_.wakeWriter();
      co_await waitForEvent();
      if (watch_.timedOut) break;  // a window that stayed shut
    }
    if (gone() || watch_.timedOut) {
      upstreamOk = false;
      break;
    }
    armForWait();
    auto [readError, n] = co_await upstream.readSome(asio::buffer(up));
    if (readError || n == 0) {
      upstreamOk = false;
      // Until-close framing ends with the connection; any other framing was cut short.
      if (framing == http::BodyFraming::UntilClose && (!readError || readError == asio::error::eof))
        done = true;
      break;
    }
    upstreamOk = take({up.data(), n});
    connection_.wakeWriter();
  }
  watch_.connection = nullptr;
  if (gone()) co_return;  // the client reset the stream: the upstream connection is dropped
  if (done) {
    if (!sink.trailers.empty()) {
      std::vector<http2::Field> trailers;
      collectHttp2TrailerFields(trailers, sink.trailers);
      codec.submitTrailers(stream_, trailers);
    } else if (framing != http::BodyFraming::None) {
      codec.appendBody(stream_, {}, true);
    }
    if (reusable && upstreamOk)
      worker_.pool().give(poolKey, std::move(connection), cluster.config->pool.maxIdlePerEndpoint,
                          cluster.config->pool.idleTimeout);
  } else {
    codec.resetStream(stream_, kInternalError);  // cut short: the client must see it failed
  }
  connection_.wakeWriter();
}

}  // namespace meshgate::dp
