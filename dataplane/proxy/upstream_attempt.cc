// One try of a request on one upstream endpoint: connection, request out, response head in.
#include "dataplane/proxy/upstream_attempt.h"

#include <array>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include "base/assert.h"
#include "dataplane/proxy/alpn.h"
#include "dataplane/proxy/mesh_tls.h"
#include "dataplane/proxy/upstream_http2_attempt.h"
#include "dataplane/proxy/worker.h"

namespace meshgate::dp {

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

using Steady = std::chrono::steady_clock;

// GET, HEAD, OPTIONS, PUT, DELETE, TRACE (RFC 9110 section 9.2.2).
bool isIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

// A mesh endpoint that presented another workload's certificate (or none we can read): logged at
// most once a second per worker thread, as a misconfiguration or an attack can repeat it per
// request.
void logWrongMeshPeer(const Cluster& cluster, const std::string& endpoint) {
  thread_local Steady::time_point last{};
  const auto now = Steady::now();
  if (now - last < std::chrono::seconds(1)) return;
  last = now;
  spdlog::warn("mesh: {} at {} did not present {}: connection refused", cluster.name, endpoint,
               cluster.peerIdentity);
}

}  // namespace

asio::awaitable<bool> ByteStreamBodyWriter::write(std::span<const char> data) {
  co_return !failed(co_await stream_.writeAll(asio::buffer(data.data(), data.size())));
}

void AttemptWatch::cancelAll() {
  if (connection) connection->stream.cancel();
  if (connecting) connecting->cancel();
  if (http2) http2->cancel();
}

asio::awaitable<UpstreamConnectionPtr> connectUpstream(const AttemptContext& context,
                                                       const AttemptRequest& request,
                                                       AttemptError& error) {
  const Cluster& cluster = request.cluster;
  if (!cluster.peerIdentity.empty() && !cluster.tls) {
    // A mesh service needs mTLS and the sidecar has no workload identity: never plaintext.
    error = AttemptError::ConnectFailure;
    co_return nullptr;
  }
  auto connectionSlot = cluster.breaker->tryAcquire(CircuitBreaker::Resource::Connections);
  if (!connectionSlot) {
    cluster.overflow[static_cast<size_t>(CircuitBreaker::Resource::Connections)]->inc();
    error = AttemptError::Overflow;
    co_return nullptr;
  }
  auto pendingSlot = cluster.breaker->tryAcquire(CircuitBreaker::Resource::PendingRequests);
  if (!pendingSlot) {
    cluster.overflow[static_cast<size_t>(CircuitBreaker::Resource::PendingRequests)]->inc();
    error = AttemptError::Overflow;
    co_return nullptr;
  }
  AttemptWatch& watch = context.watch;
  tcp::socket socket(co_await asio::this_coro::executor);
  watch.connecting = &socket;
  context.deadline.arm(std::min(request.deadline, Steady::now() + cluster.config->connectTimeout));
  watch.timedOut = false;
  auto [ec] = co_await socket.async_connect(request.endpoint.address, kNoThrow);
  watch.connecting = nullptr;
  if (ec) {
    cluster.connectErrors->inc();
    // The connect timeout is a connect failure (retried as one); the attempt's own deadline is a
    // timeout.
    error = watch.timedOut && Steady::now() >= request.deadline ? AttemptError::Timeout
                                                                : AttemptError::ConnectFailure;
    co_return nullptr;
  }
  context.deadline.arm(request.deadline);
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto connection = std::make_unique<UpstreamConnection>(
      cluster.tls ? ByteStream(std::move(socket), *cluster.tls) : ByteStream(std::move(socket)));
  connection->connectionSlot = std::move(connectionSlot);
  connection->keepAlive = context.snapshot;
  connection->active = cluster.connectionsActive;
  cluster.connectionsActive->inc();
  cluster.connectionsOpened->inc();
  if (cluster.tls) {
    watch.connection = connection.get();
    const bool mesh = !cluster.peerIdentity.empty();
    if (cluster.http2)
      SSL_set_alpn_protos(connection->stream.nativeTls(), kAlpnHttp2, sizeof kAlpnHttp2);
    const error_code handshake =
        mesh ? co_await connection->stream.handshakeAsMeshClient()
             : co_await connection->stream.handshakeAsClient(cluster.config->tls->serverName);
    watch.connection = nullptr;
    // A mesh endpoint must be the workload the MeshService names (its one SPIFFE URI SAN).
    const bool wrongPeer =
        !handshake && mesh &&
        peerSpiffeId(connection->stream.nativeTls()) != std::optional(cluster.peerIdentity);
    // An HTTP/2 port must agree to h2: HTTP/1.1 bytes would not be understood.
    const bool wrongProtocol =
        !handshake && cluster.http2 && !negotiatedHttp2(connection->stream.nativeTls());
    if (handshake || wrongPeer || wrongProtocol) {
      if (wrongPeer) logWrongMeshPeer(cluster, request.endpoint.key);
      cluster.connectErrors->inc();
      error = watch.timedOut ? AttemptError::Timeout : AttemptError::ConnectFailure;
      co_return nullptr;
    }
  }
  co_return connection;
}

namespace {

// Parses what was read of the response head, skipping interim responses, and makes room for the
// next read. NeedMore: read more into buffer[received…]; otherwise `parsed` is final (Complete, or
// why the head is invalid).
bool needsMoreOfHead(const AttemptContext& context, const AttemptRequest& request, ReadBuffer& up,
                     size_t& received, http::ResponseHead& response, http::ParseStatus& parsed) {
  for (;;) {
    parsed =
        http::parseResponseHead({up.data(), received}, request.method, context.limits, response);
    if (parsed != http::ParseStatus::Complete || response.status >= 200 || response.status == 101)
      break;
    // Interim responses (100, 103) are not forwarded: the proxy answered Expect itself.
    MESHGATE_ASSERT(response.headBytes <= received, "an interim head lies within the bytes read");
    std::memmove(up.data(), up.data() + response.headBytes, received - response.headBytes);
    received -= response.headBytes;
  }
  if (parsed != http::ParseStatus::NeedMore) return false;
  if (up.size() - received < 1024) {
    if (up.size() >= context.limits.maxHeadBytes + 1024u) {
      parsed = http::ParseStatus::HeadTooLarge;
      return false;
    }
    up.resize(up.size() * 2);
  }
  return true;
}

}  // namespace

asio::awaitable<AttemptResult> runAttempt(const AttemptContext& context,
                                          const AttemptRequest& request, ReadBuffer& buffer,
                                          http::ResponseHead& response) {
  if (request.cluster.http2) co_return co_await runHttp2Attempt(context, request, response);
  AttemptWatch& watch = context.watch;
  context.deadline.arm(request.deadline);
  watch.timedOut = false;
  const bool replayable = request.body.complete() && isIdempotent(request.method);

  // A pooled connection first (checked for a close or stray bytes while it sat idle).
  UpstreamConnectionPtr connection = context.worker.pool().take(request.endpoint.poolKey);
  bool reused = connection != nullptr;
  AttemptResult result;
  for (;;) {
    if (!connection) {
      connection = co_await connectUpstream(context, request, result.error);
      if (!connection) co_return result;
    }
    watch.connection = connection.get();
    connection->requests++;

    const std::span<const char> body = request.body.buffered();
    std::array<asio::const_buffer, 2> head = {asio::buffer(request.head),
                                              asio::buffer(body.data(), body.size())};
    bool ok = true;
    if (body.empty()) {
      if (!connection->stream.writeNow(head[0]))
        ok = !failed(co_await connection->stream.writeAll(head[0]));
    } else if (!connection->stream.writeNow(head)) {
      ok = !failed(co_await connection->stream.writeAll(head));
    }
    if (ok && !request.body.complete()) {
      ByteStreamBodyWriter writer(connection->stream);
      result.body = co_await request.body.streamRest(writer);
      if (result.body != BodyOutcome::Done) {
        // Halfway through a streamed body neither side can be resynchronized: no replay.
        watch.connection = nullptr;
        result.error = result.body != BodyOutcome::UpstreamFailed ? AttemptError::RequestBody
                       : watch.timedOut                           ? AttemptError::Timeout
                                                                  : AttemptError::Reset;
        co_return result;
      }
    }
    http::ParseStatus parsed = http::ParseStatus::NeedMore;
    result.received = 0;
    while (ok && needsMoreOfHead(context, request, buffer, result.received, response, parsed)) {
      auto [readError, n] = co_await connection->stream.readSome(
          asio::buffer(buffer.data() + result.received, buffer.size() - result.received));
      if (readError || n == 0) ok = false;
      result.received += n;
    }
    watch.connection = nullptr;
    if (ok && parsed != http::ParseStatus::Complete) {
      result.error = AttemptError::InvalidResponse;
      result.invalid = http::describe(parsed);
      co_return result;
    }
    if (ok && response.status == 101 && !request.upgrade) {
      // 101 is final, and valid only as the answer to an upgrade request (RFC 9110 section
      // 15.2.2); the connection speaks another protocol from then on and is dropped.
      result.error = AttemptError::InvalidResponse;
      result.invalid = "101 Switching Protocols to a request without Upgrade";
      co_return result;
    }
    if (!ok) {
      if (reused && result.received == 0 && replayable && !watch.timedOut) {
        // The stale pooled connection: replay once on a new one.
        connection.reset();
        reused = false;
        continue;
      }
      result.error = watch.timedOut ? AttemptError::Timeout : AttemptError::Reset;
      co_return result;
    }
    break;
  }
  MESHGATE_ASSERT(response.headBytes <= result.received,
                  "the parsed head lies within the bytes read");
  result.connection = std::move(connection);
  co_return result;
}

}  // namespace meshgate::dp
