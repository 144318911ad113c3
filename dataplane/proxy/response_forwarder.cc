// Streaming an upstream response to the client.
#include "dataplane/proxy/response_forwarder.h"

#include <array>

#include "base/ascii.h"
#include "base/assert.h"
#include "dataplane/http/chunked_decoder.h"
#include "dataplane/proxy/forwarded_head.h"
#include "dataplane/proxy/http2_upstream_relay.h"

namespace meshgate::dp {

namespace {
using Steady = std::chrono::steady_clock;
constexpr size_t kJoinBodyBytes = 4096;
}  // namespace

asio::awaitable<ForwardResult> forwardResponse(ForwardRequest request, UpstreamPool& pool) {
  const http::ResponseHead& response = request.response;
  if (request.http2) {
    http::BodyFraming framing = request.headRequest ? http::BodyFraming::None : response.framing;
    bool keepClient = request.keepClient;
    const http::ResponseHead* head = &response;
    http::ResponseHead withoutChunking;
    if (framing == http::BodyFraming::Chunked && request.clientVersionMinor == 0) {
      // An HTTP/1.0 client knows no chunked coding: a body of unknown length ends with the
      // connection, as an HTTP/1.0 server would send it.
      framing = http::BodyFraming::UntilClose;
      keepClient = false;
      withoutChunking = response;
      std::erase_if(withoutChunking.headers, [](const http::Header& header) {
        return asciiEqualsIgnoreCase(header.name, "transfer-encoding");
      });
      head = &withoutChunking;
    }
    writeDownstreamResponseHead(request.head, *head,
                                {.clientVersionMinor = request.clientVersionMinor,
                                 .keepAlive = keepClient,
                                 .edits = request.edits,
                                 .added = request.added});
    const Http1RelayResult relayed =
        co_await relayHttp2ToHttp1({.upstream = *request.http2,
                                    .client = request.client,
                                    .deadline = request.deadline,
                                    .watch = request.watch,
                                    .requestDeadline = request.requestDeadline,
                                    .idle = request.idle,
                                    .head = request.head,
                                    .framing = framing});
    co_return ForwardResult{.keepClient = keepClient && relayed.complete,
                            .bytesSent = relayed.bytesSent};
  }
  ReadBuffer& up = request.buffer;
  MESHGATE_ASSERT(request.connection != nullptr, "a response comes with its connection");
  MESHGATE_ASSERT(response.headBytes <= request.received, "the head lies within the bytes read");
  ByteStream& upstream = request.connection->stream;
  request.watch.connection = request.connection.get();
  const auto armIdle = [&] {
    if (request.requestDeadline == SteadyTime::max())
      request.deadline.arm(Steady::now() + request.idle);
  };
  request.deadline.arm(request.requestDeadline);
  armIdle();

  ForwardResult result;
  const bool upgraded = request.upgradeRequested && response.status == 101;
  const http::BodyFraming framing =
      request.headRequest ? http::BodyFraming::None : response.framing;
  bool keepClient = request.keepClient && framing != http::BodyFraming::UntilClose && !upgraded;
  writeDownstreamResponseHead(request.head, response,
                              {.clientVersionMinor = request.clientVersionMinor,
                               .keepAlive = keepClient,
                               .edits = request.edits,
                               .added = request.added});
  const size_t bodyAt = response.headBytes;
  const size_t available = request.received - bodyAt;
  bool upstreamReusable = response.keepAlive && !upgraded;

  if (upgraded) {
    std::array<asio::const_buffer, 2> out = {asio::buffer(request.head),
                                             asio::buffer(up.data() + bodyAt, available)};
    const bool sent = !failed(co_await request.client.writeAll(out));
    request.watch.connection = nullptr;
    result.bytesSent = request.head.size() + available;
    if (sent) result.upgraded = std::move(request.connection);
    co_return result;
  }

  // What of the bytes already read belongs to this response's body.
  uint64_t remaining = 0;
  http::ChunkedDecoder chunks;
  size_t send = 0;
  bool done = false;
  switch (framing) {
    case http::BodyFraming::None:
      done = true;
      // A HEAD response announces a body it does not carry; bytes after it were never asked for.
      if (available > 0) upstreamReusable = false;
      break;
    case http::BodyFraming::ContentLength:
      send = static_cast<size_t>(std::min<uint64_t>(available, response.contentLength));
      remaining = response.contentLength - send;
      done = remaining == 0;
      if (available > send) upstreamReusable = false;
      break;
    case http::BodyFraming::Chunked: {
      const auto r = chunks.consume({up.data() + bodyAt, available});
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

  // A small first body part joins the head: one send(2) instead of a sendmsg(2) of two parts.
  result.bytesSent = request.head.size() + send;
  bool clientOk = true;
  if (send <= kJoinBodyBytes) {
    request.head.append(up.data() + bodyAt, send);
    asio::const_buffer out = asio::buffer(request.head);
    if (!request.client.writeNow(out)) clientOk = !failed(co_await request.client.writeAll(out));
  } else {
    std::array<asio::const_buffer, 2> out = {asio::buffer(request.head),
                                             asio::buffer(up.data() + bodyAt, send)};
    if (!request.client.writeNow(out)) clientOk = !failed(co_await request.client.writeAll(out));
  }
  bool upstreamOk = true;
  while (clientOk && !done) {
    auto [readError, n] = co_await upstream.readSome(asio::buffer(up));
    if (readError || n == 0) {
      upstreamOk = false;
      // Until-close framing ends with the connection; any other framing was cut short.
      if (framing == http::BodyFraming::UntilClose && (!readError || readError == asio::error::eof))
        done = true;
      break;
    }
    size_t chunk = n;
    if (framing == http::BodyFraming::ContentLength) {
      chunk = static_cast<size_t>(std::min<uint64_t>(n, remaining));
      remaining -= chunk;
      done = remaining == 0;
      if (n > chunk) upstreamReusable = false;
    } else if (framing == http::BodyFraming::Chunked) {
      const auto r = chunks.consume({up.data(), n});
      if (r.status == http::ChunkedDecoder::Status::Error) {
        upstreamOk = false;
        break;
      }
      chunk = r.consumed;
      done = r.status == http::ChunkedDecoder::Status::Done;
      if (n > chunk) upstreamReusable = false;
    }
    armIdle();
    clientOk = !failed(co_await request.client.writeAll(asio::buffer(up.data(), chunk)));
    result.bytesSent += chunk;
  }
  request.watch.connection = nullptr;
  if (!done || !upstreamOk) keepClient = false;  // cut short: the client must see the end
  if (!clientOk) keepClient = false;
  if (upstreamReusable && done && upstreamOk && clientOk)
    pool.give(request.poolKey, std::move(request.connection),
              request.cluster.config->pool.maxIdlePerEndpoint,
              request.cluster.config->pool.idleTimeout);
  result.keepClient = keepClient;
  co_return result;
}

}  // namespace meshgate::dp
