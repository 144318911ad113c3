// EchoServer: the upstream of the TCP listener tests (tcp_proxy_test.cc). On 127.0.0.1 and an
// ephemeral port, on a thread of its own, it writes back every byte it receives and closes its
// end once the client half-closed and everything was echoed. Optionally it first writes a
// greeting (how a test tells endpoints apart), and it counts the connections it accepted. Stopped
// when it goes. Header-only test code; port() and accepted() are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
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

#include "dataplane/proxy/testing/loopback_listener.h"

namespace meshgate::dp::testing {

class EchoServer {
 public:
  explicit EchoServer(std::string greeting = {})
      : greeting_(std::move(greeting)), acceptor_(context_) {
    port_ = listenOnLoopback(acceptor_);
    boost::asio::co_spawn(context_, acceptLoop(), boost::asio::detached);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~EchoServer() {
    context_.stop();
    thread_.join();
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  uint16_t port() const { return port_; }
  size_t accepted() const { return accepted_.load(); }

 private:
  static constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);

  boost::asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      accepted_++;
      boost::asio::co_spawn(context_, echo(std::move(socket)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> echo(boost::asio::ip::tcp::socket socket) {
    if (!greeting_.empty()) {
      auto [ec, n] =
          co_await boost::asio::async_write(socket, boost::asio::buffer(greeting_), kNoThrow);
      if (ec) co_return;
    }
    std::array<char, 16 * 1024> buffer;
    for (;;) {
      auto [readError, n] = co_await socket.async_read_some(boost::asio::buffer(buffer), kNoThrow);
      if (readError) break;  // end of stream: the client half-closed
      auto [writeError, written] = co_await boost::asio::async_write(
          socket, boost::asio::buffer(buffer.data(), n), kNoThrow);
      if (writeError) co_return;
    }
    boost::system::error_code ignored;
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
  }

  std::string greeting_;
  boost::asio::io_context context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<size_t> accepted_{0};
};

}  // namespace meshgate::dp::testing
