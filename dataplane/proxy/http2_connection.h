// Http2Connection: one client connection that speaks HTTP/2 — over TLS when ALPN chose "h2", or
// in cleartext when the client opened with the HTTP/2 preface (h2c with prior knowledge). It
// feeds the client's bytes to the codec (http2::ServerCodec), writes what the codec has to send,
// and runs each request stream as its own Http2Exchange coroutine, so streams proceed
// concurrently on the worker's thread. It ends when the client closes, on a protocol error (after
// its GOAWAY is written), after an idle timeout without streams, or after a drain's GOAWAY once
// its streams finished — and only after every exchange coroutine has returned. Owned by the
// DownstreamSession that detected HTTP/2 (which keeps the worker's connection accounting and
// drain); used only on the worker's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "dataplane/http2/server_codec.h"
#include "dataplane/proxy/byte_stream.h"
#include "dataplane/proxy/deadline_sweeper.h"
#include "dataplane/proxy/request_routing.h"

namespace meshgate::dp {

class Http2Exchange;
class Worker;

// What every exchange of a connection shares.
struct Http2ConnectionInfo {
  std::string listenerName;
  std::string peerIp;
  bool tls = false;
  std::optional<MeshConnection> mesh;
};

class Http2Connection final : public Deadline, private http2::ServerCodecEvents {
 public:
  Http2Connection(Worker& worker, ByteStream& stream, Http2ConnectionInfo info);
  ~Http2Connection() override;

  // Serves the connection; `alreadyRead` are bytes read before HTTP/2 was recognised (h2c: the
  // preface onwards).
  asio::awaitable<void> run(std::span<const char> alreadyRead);
  // Drain: GOAWAY; open streams finish, then the connection ends.
  void closeWhenIdle();
  // Shutdown after the drain deadline: everything ends now.
  void abort();

  // For exchanges.
  Worker& worker() { return worker_; }
  const Http2ConnectionInfo& info() const { return info_; }
  http2::ServerCodec& codec() { return codec_; }
  // The codec has new output: the writer sends it.
  void wakeWriter();
  // An exchange's coroutine returned.
  void exchangeFinished();

  // Deadline: the connection was idle (no streams) or a write stalled.
  void onDeadline() override;

 private:
  // ServerCodecEvents
  void onRequestHead(int32_t stream, http2::RequestHead head) override;
  void onRequestData(int32_t stream, std::span<const char> data) override;
  void onRequestEnd(int32_t stream, std::vector<http2::Field> trailers) override;
  void onStreamClosed(int32_t stream, uint32_t errorCode) override;
  void onStreamWritable(int32_t stream) override;

  asio::awaitable<void> readLoop(std::span<const char> alreadyRead);
  asio::awaitable<void> writeLoop();
  Http2Exchange* find(int32_t stream);
  void armIdleIfQuiet();
  void endConnection();  // stops both loops

  Worker& worker_;
  ByteStream& stream_;
  Http2ConnectionInfo info_;
  http2::ServerCodec codec_;
  std::unordered_map<int32_t, std::shared_ptr<Http2Exchange>> exchanges_;
  size_t runningExchanges_ = 0;
  asio::steady_timer writerWake_;     // cancelled to wake the writer
  asio::steady_timer exchangesDone_;  // cancelled when the last exchange returns
  bool writePending_ = false;
  bool writing_ = false;
  bool ended_ = false;
  bool draining_ = false;
};

}  // namespace meshgate::dp
