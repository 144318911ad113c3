// One attempt over HTTP/2: a stream on a multiplexed connection, the response head awaited.
#include "dataplane/proxy/upstream_http2_attempt.h"

#include "base/ascii.h"
#include "dataplane/http2/server_codec.h"
#include "dataplane/proxy/forwarded_head.h"
#include "dataplane/proxy/worker.h"

namespace meshgate::dp {

namespace {

using Steady = std::chrono::steady_clock;

// The forwarded HTTP/1.1 head as an HTTP/2 request: pseudo-headers from the request line and
// Host, the other fields as they are (the codec drops connection-specific ones).
bool toHttp2Request(std::string_view head, const http::Limits& limits, bool tls,
                    http2::RequestHead& out, http::BodyFraming& framing) {
  http::RequestHead parsed;
  if (http::parseRequestHead(head, limits, parsed) != http::ParseStatus::Complete) return false;
  out.method.assign(parsed.method);
  out.scheme = tls ? "https" : "http";
  out.authority.assign(parsed.host);
  out.path.assign(parsed.target);
  for (const auto& header : parsed.headers) {
    if (asciiEqualsIgnoreCase(header.name, "host")) continue;
    out.headers.push_back({asciiLower(std::string(header.name)), std::string(header.value)});
  }
  framing = parsed.framing;
  if (parsed.framing == http::BodyFraming::ContentLength) out.contentLength = parsed.contentLength;
  return true;
}

// The stream's response head as the router and the HTTP/1.1 forwarder read it.
void describeResponse(const http2::ResponseHead& head, bool headRequest,
                      http::ResponseHead& response) {
  response.status = head.status;
  response.reason = {};
  response.versionMinor = 1;
  response.headers.clear();
  for (const auto& field : head.headers)
    response.headers.push_back({field.name, field.value});
  response.keepAlive = true;
  response.upgrade = false;
  response.connectionNamesHeaders = false;
  response.headBytes = 0;
  response.contentLength = head.contentLength.value_or(0);
  const bool noContent = head.status == 204 || head.status == 304;
  if (headRequest || head.endStream || noContent) {
    response.framing = http::BodyFraming::None;
    // An HTTP/1.1 client would otherwise read a body until the connection closes.
    if (!head.contentLength && !noContent && !headRequest)
      response.headers.push_back({"content-length", "0"});
  } else if (head.contentLength) {
    response.framing = http::BodyFraming::ContentLength;
  } else {
    response.framing = http::BodyFraming::Chunked;
    response.headers.push_back({"transfer-encoding", "chunked"});
  }
}

}  // namespace

asio::awaitable<bool> Http2StreamBodyWriter::write(std::span<const char> data) {
  if (chunked_) {
    const auto result = decoder_.consume({data.data(), data.size()}, this);
    if (result.status == http::ChunkedDecoder::Status::Error) co_return false;
  } else {
    stream_.send(data, false);
  }
  while (stream_.queued() > http2::ServerCodec::kHighWaterBytes) {
    if (stream_.resetCode() || watch_.timedOut) co_return false;
    co_await stream_.wait();
  }
  co_return !stream_.resetCode() && !watch_.timedOut;
}

void Http2StreamBodyWriter::finish() {
  if (trailerText_.empty()) {
    stream_.send({}, true);
    return;
  }
  std::vector<http2::Field> trailers;
  collectHttp2TrailerFields(trailers, trailerText_);
  stream_.sendTrailers(trailers);
}

asio::awaitable<AttemptResult> runHttp2Attempt(const AttemptContext& context,
                                               const AttemptRequest& request,
                                               http::ResponseHead& response) {
  AttemptWatch& watch = context.watch;
  const Cluster& cluster = request.cluster;
  context.deadline.arm(request.deadline);
  watch.timedOut = false;
  AttemptResult result;

  http2::RequestHead head;
  http::BodyFraming framing = http::BodyFraming::None;
  if (!toHttp2Request(request.head, context.limits, cluster.tls != nullptr, head, framing)) {
    result.error = AttemptError::InvalidResponse;
    result.invalid = "the request head could not be turned into HTTP/2";
    co_return result;
  }
  const std::span<const char> buffered = request.body.buffered();
  const bool noBody =
      framing == http::BodyFraming::None || (request.body.complete() && buffered.empty());
  head.endStream = noBody;

  Http2UpstreamPool& pool = context.worker.http2Pool();
  std::shared_ptr<UpstreamHttp2Connection> connection = pool.find(request.endpoint.poolKey);
  if (!connection) {
    UpstreamConnectionPtr opened = co_await connectUpstream(context, request, result.error);
    if (!opened) co_return result;
    connection =
        std::make_shared<UpstreamHttp2Connection>(context.worker.context(), std::move(opened));
    connection->start();
    pool.add(request.endpoint.poolKey, connection, cluster.config->pool.idleTimeout);
  }
  std::shared_ptr<UpstreamHttp2Stream> stream = connection->open(head, noBody);
  if (!stream) {
    result.error = AttemptError::Reset;
    co_return result;
  }
  watch.http2 = stream.get();
  context.deadline.arm(request.deadline);

  if (!noBody) {
    Http2StreamBodyWriter writer(*stream, watch, framing == http::BodyFraming::Chunked);
    const bool sent = co_await writer.write(buffered);
    if (!sent) {
      watch.http2 = nullptr;
      result.error = watch.timedOut ? AttemptError::Timeout : AttemptError::Reset;
      co_return result;
    }
    if (!request.body.complete()) {
      result.body = co_await request.body.streamRest(writer);
      if (result.body != BodyOutcome::Done) {
        watch.http2 = nullptr;
        result.error = result.body != BodyOutcome::UpstreamFailed ? AttemptError::RequestBody
                       : watch.timedOut                           ? AttemptError::Timeout
                                                                  : AttemptError::Reset;
        co_return result;
      }
    }
    writer.finish();
  }

  while (!stream->head() && !stream->resetCode() && !watch.timedOut)
    co_await stream->wait();
  watch.http2 = nullptr;
  if (!stream->head()) {
    result.error = watch.timedOut ? AttemptError::Timeout : AttemptError::Reset;
    co_return result;
  }
  describeResponse(*stream->head(), request.method == "HEAD", response);
  result.http2 = std::move(stream);
  co_return result;
}

}  // namespace meshgate::dp
