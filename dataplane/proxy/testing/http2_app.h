// Http2App: an application that speaks only HTTP/2 cleartext with prior knowledge (as a gRPC
// server does), for in-process tests of HTTP/2 upstreams. On 127.0.0.1 and an ephemeral port, on
// a thread of its own, it answers every request once the request ended: 200, `x-protocol: h2`,
// and the body `respond` makes of the request's head and body (default: "<method> <path>"). It
// also answers the gRPC health-checking protocol (/grpc.health.v1.Health/Check): SERVING, or
// NOT_SERVING after setServing(false). Responses carry a content-length unless
// setAnnounceLength(false) (then the body's length is known only at END_STREAM). The trailers of
// the last request that ended are kept. Built on the proxy's own server codec
// (dataplane/http2/server_codec.h). Header-only test code.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "dataplane/http2/server_codec.h"
#include "dataplane/proxy/testing/loopback_listener.h"

namespace meshgate::dp::testing {

class Http2App {
 public:
  using Responder = std::function<std::string(const http2::RequestHead&, const std::string& body)>;

  explicit Http2App(Responder respond = {}) : respond_(std::move(respond)), acceptor_(context_) {
    if (!respond_)
      respond_ = [](const http2::RequestHead& head, const std::string&) {
        return head.method + " " + head.path;
      };
    port_ = listenOnLoopback(acceptor_);
    boost::asio::co_spawn(context_, acceptLoop(), boost::asio::detached);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~Http2App() {
    context_.stop();
    thread_.join();
  }
  Http2App(const Http2App&) = delete;
  Http2App& operator=(const Http2App&) = delete;

  uint16_t port() const { return port_; }
  size_t requests() const { return requests_.load(); }
  void setServing(bool serving) { serving_ = serving; }
  void setAnnounceLength(bool announce) { announceLength_ = announce; }
  std::vector<http2::Field> lastTrailers() const {
    std::lock_guard lock(mutex_);
    return lastTrailers_;
  }

 private:
  static constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);

  // One connection: requests collected per stream, answered when they end.
  class Connection final : public http2::ServerCodecEvents {
   public:
    explicit Connection(Http2App& app) : app_(app), codec_(*this, http2::ServerLimits{}) {}
    http2::ServerCodec& codec() { return codec_; }

    void onRequestHead(int32_t stream, http2::RequestHead head) override {
      requests_[stream].head = std::move(head);
    }
    void onRequestData(int32_t stream, std::span<const char> data) override {
      requests_[stream].body.append(data.data(), data.size());
      codec_.consumed(stream, data.size());
    }
    void onRequestEnd(int32_t stream, std::vector<http2::Field> trailers) override {
      {
        std::lock_guard lock(app_.mutex_);
        app_.lastTrailers_ = std::move(trailers);
      }
      const Request& request = requests_[stream];
      if (request.head.path == "/grpc.health.v1.Health/Check") {
        // HealthCheckResponse{status: SERVING (1) or NOT_SERVING (2)}, length-prefixed.
        const char message[] = {0, 0, 0, 0, 2, 0x08, app_.serving_ ? '\x01' : '\x02'};
        codec_.submitResponse(stream, 200, {{"content-type", "application/grpc"}}, false);
        codec_.appendBody(stream, std::string_view(message, sizeof message), false);
        codec_.submitTrailers(stream, {{"grpc-status", "0"}});
        return;
      }
      const std::string body = app_.respond_(request.head, request.body);
      app_.requests_++;
      std::vector<http2::Field> fields{{"content-type", "text/plain"}, {"x-protocol", "h2"}};
      if (app_.announceLength_) fields.push_back({"content-length", std::to_string(body.size())});
      codec_.submitResponse(stream, 200, fields, body.empty());
      if (!body.empty()) codec_.appendBody(stream, body, true);
    }
    void onStreamClosed(int32_t stream, uint32_t) override { requests_.erase(stream); }
    void onStreamWritable(int32_t) override {}

   private:
    struct Request {
      http2::RequestHead head;
      std::string body;
    };
    Http2App& app_;
    http2::ServerCodec codec_;
    std::map<int32_t, Request> requests_;
  };

  boost::asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      boost::asio::co_spawn(context_, serve(std::move(socket)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket) {
    Connection connection(*this);
    std::array<char, 16 * 1024> buffer;
    std::string out;
    for (;;) {
      for (;;) {
        const auto next = connection.codec().nextOutput();
        if (next.empty()) break;
        out.assign(next.data(), next.size());
        auto [writeError, written] =
            co_await boost::asio::async_write(socket, boost::asio::buffer(out), kNoThrow);
        if (writeError) co_return;
      }
      if (!connection.codec().wantsRead() && !connection.codec().wantsWrite()) co_return;
      auto [readError, n] = co_await socket.async_read_some(boost::asio::buffer(buffer), kNoThrow);
      if (readError) co_return;
      if (!connection.codec().receive({buffer.data(), n})) {
        // Write the GOAWAY, then close.
        const auto last = connection.codec().nextOutput();
        out.assign(last.data(), last.size());
        co_await boost::asio::async_write(socket, boost::asio::buffer(out), kNoThrow);
        co_return;
      }
    }
  }

  Responder respond_;
  boost::asio::io_context context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<size_t> requests_{0};
  std::atomic<bool> serving_{true};
  std::atomic<bool> announceLength_{true};
  mutable std::mutex mutex_;
  std::vector<http2::Field> lastTrailers_;
};

}  // namespace meshgate::dp::testing
