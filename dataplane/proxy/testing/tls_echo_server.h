// TlsEchoServer: the backend of the TLS passthrough tests (tls_passthrough_test.cc). On 127.0.0.1
// and an ephemeral port, on a thread of its own, it terminates TLS with the certificate it was
// given — so a client that verifies the server's name can tell it from the proxy — and writes
// back every byte it receives, prefixed once with its name, until the client closes. It counts
// the handshakes that succeeded. Header-only test code; port() and handshakes() are thread-safe.
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
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/loopback_listener.h"

namespace meshgate::dp::testing {

class TlsEchoServer {
 public:
  TlsEchoServer(std::string name, const PemPair& certificate)
      : name_(std::move(name)), tls_(boost::asio::ssl::context::tls_server), acceptor_(context_) {
    tls_.use_certificate_chain(boost::asio::buffer(certificate.certificatePem));
    tls_.use_private_key(boost::asio::buffer(certificate.keyPem), boost::asio::ssl::context::pem);
    port_ = listenOnLoopback(acceptor_);
    boost::asio::co_spawn(context_, acceptLoop(), boost::asio::detached);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~TlsEchoServer() {
    context_.stop();
    thread_.join();
  }
  TlsEchoServer(const TlsEchoServer&) = delete;
  TlsEchoServer& operator=(const TlsEchoServer&) = delete;

  uint16_t port() const { return port_; }
  size_t handshakes() const { return handshakes_.load(); }

 private:
  static constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

  boost::asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      boost::asio::co_spawn(context_, echo(Stream(std::move(socket), tls_)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> echo(Stream stream) {
    auto [handshakeError] =
        co_await stream.async_handshake(boost::asio::ssl::stream_base::server, kNoThrow);
    if (handshakeError) co_return;
    handshakes_++;
    std::string greeting = name_ + ":";
    auto [greetError, greeted] =
        co_await boost::asio::async_write(stream, boost::asio::buffer(greeting), kNoThrow);
    if (greetError) co_return;
    std::array<char, 16 * 1024> buffer;
    for (;;) {
      auto [readError, n] = co_await stream.async_read_some(boost::asio::buffer(buffer), kNoThrow);
      if (readError) co_return;
      auto [writeError, written] = co_await boost::asio::async_write(
          stream, boost::asio::buffer(buffer.data(), n), kNoThrow);
      if (writeError) co_return;
    }
  }

  std::string name_;
  boost::asio::io_context context_;
  boost::asio::ssl::context tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<size_t> handshakes_{0};
  std::thread thread_;
};

}  // namespace meshgate::dp::testing
