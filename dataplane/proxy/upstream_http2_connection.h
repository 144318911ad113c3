// UpstreamHttp2Connection: one multiplexed HTTP/2 connection from a worker to an upstream
// endpoint (a cluster port in ClusterConfig::http2Ports), carrying many requests at once as
// UpstreamHttp2Streams, up to the server's SETTINGS_MAX_CONCURRENT_STREAMS. Its own coroutine
// reads and writes the socket through an http2::ClientCodec and hands each stream its response
// events; the request path waits on its stream, never on the socket. The connection ends on a
// socket error, a protocol error, the server's GOAWAY once its streams finished, or close() —
// every open stream then learns it was reset. Kept alive by its coroutine, its streams and the
// worker's Http2UpstreamPool. Used only on the worker's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "dataplane/http2/client_codec.h"
#include "dataplane/proxy/upstream_pool.h"

namespace meshgate::dp {

class UpstreamHttp2Connection;

// One request on an UpstreamHttp2Connection: what its response brought so far, and a way to wait
// for more. Dropping it before its response ended resets the stream (CANCEL).
class UpstreamHttp2Stream {
 public:
  UpstreamHttp2Stream(std::shared_ptr<UpstreamHttp2Connection> connection, int32_t id,
                      asio::io_context& context);
  ~UpstreamHttp2Stream();
  UpstreamHttp2Stream(const UpstreamHttp2Stream&) = delete;
  UpstreamHttp2Stream& operator=(const UpstreamHttp2Stream&) = delete;

  // Waits until something happened to the stream since the last wait (or cancel() was called).
  asio::awaitable<void> wait();
  // Wakes wait() (a deadline or the client going away).
  void cancel();

  // Request body, sent as the server's window allows.
  void send(std::span<const char> data, bool end);
  // Ends the request body with trailers, after what send() queued.
  void sendTrailers(const std::vector<http2::Field>& trailers);
  size_t queued() const;
  // `bytes` of the response body were passed on: the server may send more.
  void consumed(size_t bytes);

  int32_t id() const { return id_; }
  // The response so far.
  const std::optional<http2::ResponseHead>& head() const { return head_; }
  std::string& body() { return body_; }  // received, not yet taken (the reader erases it)
  bool ended() const { return ended_; }  // the whole response is in (body_ may hold its tail)
  const std::vector<http2::Field>& trailers() const { return trailers_; }
  // Reset by either side or cut with the connection, before its response ended: the code.
  std::optional<uint32_t> resetCode() const { return resetCode_; }

 private:
  friend class UpstreamHttp2Connection;
  void notify();

  std::shared_ptr<UpstreamHttp2Connection> connection_;
  const int32_t id_;
  asio::steady_timer wake_;
  bool pending_ = false;
  bool closed_ = false;  // the codec closed it: no reset needed on destruction
  std::optional<http2::ResponseHead> head_;
  std::string body_;
  bool ended_ = false;
  std::vector<http2::Field> trailers_;
  std::optional<uint32_t> resetCode_;
};

class UpstreamHttp2Connection final : public std::enable_shared_from_this<UpstreamHttp2Connection>,
                                      private http2::ClientCodecEvents {
 public:
  UpstreamHttp2Connection(asio::io_context& context, UpstreamConnectionPtr connection);
  ~UpstreamHttp2Connection();

  // Starts the connection's coroutine (the client preface goes out at once).
  void start();
  // A new stream may be opened on it now.
  bool usable() const { return !ended_ && codec_.canOpenStream(); }
  // Opens a stream for `head`; null when the connection cannot take one.
  std::shared_ptr<UpstreamHttp2Stream> open(const http2::RequestHead& head, bool endStream);
  size_t openStreams() const { return streams_.size(); }
  bool ended() const { return ended_; }
  // Ends the connection now: its streams are reset.
  void close();
  // Since when no stream was open (nullopt while one is).
  std::optional<std::chrono::steady_clock::time_point> idleSince() const { return idleSince_; }

  // For streams.
  http2::ClientCodec& codec() { return codec_; }
  void wakeWriter();
  void forget(int32_t stream);  // a stream object went away

 private:
  // ClientCodecEvents
  void onResponseHead(int32_t stream, http2::ResponseHead head) override;
  void onResponseData(int32_t stream, std::span<const char> data) override;
  void onResponseEnd(int32_t stream, std::vector<http2::Field> trailers) override;
  void onStreamClosed(int32_t stream, uint32_t errorCode) override;
  void onStreamWritable(int32_t stream) override;
  void onGoAway(int32_t lastStreamId, uint32_t errorCode) override;

  static asio::awaitable<void> run(std::shared_ptr<UpstreamHttp2Connection> self);
  asio::awaitable<void> readLoop();
  asio::awaitable<void> writeLoop();
  UpstreamHttp2Stream* find(int32_t stream);
  void endAll();

  asio::io_context& context_;
  UpstreamConnectionPtr connection_;
  http2::ClientCodec codec_;
  std::unordered_map<int32_t, UpstreamHttp2Stream*> streams_;
  asio::steady_timer writerWake_;
  bool writePending_ = false;
  bool ended_ = false;
  std::optional<std::chrono::steady_clock::time_point> idleSince_;
};

}  // namespace meshgate::dp
