// One try of a request on an HTTP/2 upstream endpoint (a port in ClusterConfig::http2Ports): a
// stream on a pooled UpstreamHttp2Connection that can take one, or on a new connection (the
// cluster's connection breaker counts connections, its request breaker streams); the request head
// — built once as HTTP/1.1 text by forwarded_head.h, so every rewrite is the same — turned into
// HTTP/2 fields (:authority from Host), the body without HTTP/1.1 framing (a chunked body's
// trailers as HTTP/2 trailers), then the response head
// awaited. The head is given to UpstreamRouter as an http::ResponseHead, so retries, outlier
// reports and local replies work as for HTTP/1.1: a body without content-length is announced
// chunked for an HTTP/1.1 client. The stream stays in the AttemptResult for the relay
// (http2_upstream_relay.h). Called by runAttempt for HTTP/2 clusters; worker thread only.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "dataplane/http/chunked_decoder.h"
#include "dataplane/proxy/upstream_attempt.h"

namespace meshgate::dp {

boost::asio::awaitable<AttemptResult> runHttp2Attempt(const AttemptContext& context,
                                                      const AttemptRequest& request,
                                                      http::ResponseHead& response);

// Writes a streamed request body into an HTTP/2 stream, without its HTTP/1.1 chunked framing
// when it had one (the trailers of its last chunk become HTTP/2 trailers), waiting while the stream
// holds more than the codec's high-water mark.
class Http2StreamBodyWriter final : public BodyWriter, private http::ChunkedDecoder::Sink {
 public:
  Http2StreamBodyWriter(UpstreamHttp2Stream& stream, AttemptWatch& watch, bool chunked)
      : stream_(stream), watch_(watch), chunked_(chunked) {}
  boost::asio::awaitable<bool> write(std::span<const char> data) override;
  // The body ended: END_STREAM, on the trailers of the chunked body if it had any.
  void finish();

 private:
  void payload(std::string_view data) override { stream_.send(data, false); }
  void trailerText(std::string_view text) override { trailerText_.append(text); }

  UpstreamHttp2Stream& stream_;
  AttemptWatch& watch_;
  bool chunked_;
  http::ChunkedDecoder decoder_;
  std::string trailerText_;
};

}  // namespace meshgate::dp
