// An HTTP/2 upstream response's body to an HTTP/1.1 client.
#include "dataplane/proxy/http2_upstream_relay.h"

#include <algorithm>

#include "dataplane/proxy/forwarded_head.h"

namespace meshgate::dp {

namespace {

using Steady = std::chrono::steady_clock;

}  // namespace

asio::awaitable<Http1RelayResult> relayHttp2ToHttp1(Http1RelayRequest request) {
  UpstreamHttp2Stream& upstream = request.upstream;
  Http1RelayResult result;
  const auto arm = [&] {
    request.watch.timedOut = false;
    request.deadline.arm(std::min(request.requestDeadline, Steady::now() + request.idle));
  };
  arm();
  if (failed(co_await request.client.writeAll(asio::buffer(request.head)))) co_return result;
  result.bytesSent += request.head.size();
  const bool chunked = request.framing == http::BodyFraming::Chunked;
  const bool withBody = request.framing != http::BodyFraming::None;
  std::string out;
  request.watch.http2 = &upstream;
  for (;;) {
    std::string& body = upstream.body();
    if (!body.empty()) {
      out.clear();
      const size_t bytes = body.size();
      if (withBody) {
        if (chunked)
          writeChunk(out, body);
        else
          out.append(body);
      }
      body.clear();
      arm();
      if (failed(co_await request.client.writeAll(asio::buffer(out)))) break;
      result.bytesSent += out.size();
      upstream.consumed(bytes);
      continue;
    }
    if (upstream.ended()) {
      if (chunked) {
        out.clear();
        writeLastChunk(out, upstream.trailers());
        if (failed(co_await request.client.writeAll(asio::buffer(out)))) break;
        result.bytesSent += out.size();
      }
      result.complete = true;
      break;
    }
    if (upstream.resetCode() || request.watch.timedOut) break;
    arm();
    co_await upstream.wait();
  }
  request.watch.http2 = nullptr;
  co_return result;
}

}  // namespace meshgate::dp
