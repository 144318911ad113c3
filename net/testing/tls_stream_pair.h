// The peers of the FdTlsStream tests (fd_tls_stream_*_test.cc): throwaway certificates from
// pki::CertificateAuthority, server and client TLS contexts, a connected loopback socket pair,
// an io_context runner with a deadline, byte patterns and chopped buffers, and StreamPair — an
// FdTlsStream server facing an asio::ssl client. Used on the test's thread.
#pragma once

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "pki/certificate_authority.h"
#include "pki/certificate_template.h"
#include "pki/private_key.h"

#include "net/fd_tls_stream.h"

namespace meshgate::net::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

inline constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
inline constexpr std::string_view kServerName = "localhost";

// A CA with a serving certificate for kServerName and a workload (client) certificate.
struct TestPki {
  std::string caPem;
  std::string serverCertPem;
  std::string serverKeyPem;
  std::string clientCertPem;
  std::string clientKeyPem;
};

template <class T>
T orThrow(pki::Result<T> result) {
  if (!result) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}

inline TestPki makePki(std::string_view caName) {
  const auto now = std::chrono::system_clock::now();
  const auto ca = orThrow(pki::CertificateAuthority::generate(caName, now));
  const auto serverKey = orThrow(pki::PrivateKey::generateEcdsaP256());
  const auto clientKey = orThrow(pki::PrivateKey::generateEcdsaP256());
  TestPki out;
  out.caPem = ca.certificatePem();
  out.serverCertPem =
      orThrow(
          ca.issue(pki::CertificateTemplate::forHosts({std::string(kServerName)}), serverKey, now))
          .toPem();
  out.serverKeyPem = orThrow(serverKey.toPem());
  out.clientCertPem =
      orThrow(
          ca.issue(pki::CertificateTemplate::forWorkload("spiffe://cluster.local/ns/mesh/sa/px"),
                   clientKey, now))
          .toPem();
  out.clientKeyPem = orThrow(clientKey.toPem());
  return out;
}

inline const TestPki& meshPki() {
  static const TestPki pki = makePki("meshgate test CA");
  return pki;
}

// Requires and verifies a client certificate from `pki`'s CA.
inline ssl::context serverContext(const TestPki& pki) {
  ssl::context context(ssl::context::tls_server);
  context.use_certificate_chain(asio::buffer(pki.serverCertPem));
  context.use_private_key(asio::buffer(pki.serverKeyPem), ssl::context::pem);
  context.add_certificate_authority(asio::buffer(pki.caPem));
  context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return context;
}

// Trusts `trust`'s CA for the server and presents `identity`'s client certificate.
inline ssl::context clientContext(const TestPki& trust, const TestPki& identity) {
  ssl::context context(ssl::context::tls_client);
  context.add_certificate_authority(asio::buffer(trust.caPem));
  context.use_certificate_chain(asio::buffer(identity.clientCertPem));
  context.use_private_key(asio::buffer(identity.clientKeyPem), ssl::context::pem);
  context.set_verify_mode(ssl::verify_peer);
  return context;
}

// SNI and host name verification for kServerName on any asio::ssl::stream-like client.
template <class SslStream>
inline void expectServerName(SslStream& stream) {
  SSL_set_tlsext_host_name(stream.native_handle(), std::string(kServerName).c_str());
  stream.set_verify_callback(ssl::host_name_verification(std::string(kServerName)));
}

// A connected loopback TCP pair: {accepted (server) side, client side}.
inline std::pair<tcp::socket, tcp::socket> connectedPair(asio::io_context& ioc) {
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  return {std::move(server), std::move(client)};
}

// Coroutines of one test on one io_context; run() fails the test when they do not all finish
// within the deadline (a hang) and reports exceptions that escape them.
class Coroutines {
 public:
  explicit Coroutines(asio::io_context& ioc) : ioc_(ioc) {}

  void spawn(asio::awaitable<void> coroutine) {
    ++started_;
    asio::co_spawn(ioc_, std::move(coroutine), [this](std::exception_ptr error) {
      ++finished_;
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "coroutine threw: " << e.what();
      }
    });
  }

  // Runs until every coroutine finished or `condition` holds.
  bool runUntil(const std::function<bool()>& condition,
                std::chrono::steady_clock::duration timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // An io_context stops when it runs out of work, as between two steps of a test.
    if (ioc_.stopped()) ioc_.restart();
    while (!condition() && std::chrono::steady_clock::now() < deadline) {
      if (ioc_.run_one_until(deadline) == 0 && ioc_.stopped()) break;
    }
    return condition();
  }

  void run(std::chrono::steady_clock::duration timeout = 30s) {
    EXPECT_TRUE(runUntil([this] { return finished_ == started_; }, timeout))
        << (started_ - finished_) << " coroutine(s) still running after the deadline";
  }

 private:
  asio::io_context& ioc_;
  int started_ = 0;
  int finished_ = 0;
};

inline std::vector<unsigned char> randomBytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  std::vector<unsigned char> bytes(size);
  for (auto& b : bytes)
    b = static_cast<unsigned char>(generator());
  return bytes;
}

// `data` as buffers of 1 to ~20,000 bytes, mostly small, so that writes of several buffers must be
// coalesced and some single buffers exceed a record.
inline std::vector<asio::const_buffer> choppedBuffers(const std::vector<unsigned char>& data) {
  std::mt19937 generator(7);
  std::vector<asio::const_buffer> buffers;
  std::size_t offset = 0;
  while (offset < data.size()) {
    const std::size_t pick = generator() % 10;
    std::size_t size = pick < 6 ? 1 + generator() % 64 : pick < 9 ? 1 + generator() % 4000 : 20000;
    if (size > data.size() - offset) size = data.size() - offset;
    buffers.emplace_back(data.data() + offset, size);
    offset += size;
  }
  return buffers;
}

template <class Stream>
inline asio::awaitable<void> writeAll(Stream& stream, const std::vector<unsigned char>& data) {
  auto [error, written] = co_await asio::async_write(stream, choppedBuffers(data), kTuple);
  EXPECT_FALSE(error) << "write: " << error.message();
  EXPECT_EQ(written, data.size());
}

template <class Stream>
inline asio::awaitable<void> readAll(Stream& stream, std::vector<unsigned char>& data) {
  auto [error, read] = co_await asio::async_read(stream, asio::buffer(data), kTuple);
  EXPECT_FALSE(error) << "read: " << error.message();
  EXPECT_EQ(read, data.size());
}

inline void setSmallSocketBuffers(tcp::socket& socket) {
  // Small kernel buffers make a megabyte block both directions many times, so readiness waits
  // (and a read and a write waiting at once) are exercised. Not smaller: on loopback (MSS 64 KiB)
  // a receive buffer below one MSS stalls on TCP's 200 ms persist timer.
  socket.set_option(tcp::socket::send_buffer_size(32768));
  socket.set_option(tcp::socket::receive_buffer_size(32768));
  socket.set_option(tcp::no_delay(true));
}

// A connected FdTlsStream server and asio::ssl client, before the handshake: the server has the
// mesh's serving certificate, the client trusts the mesh CA, presents `identity`'s certificate and
// checks the server's name.
class StreamPair {
 public:
  explicit StreamPair(asio::io_context& ioc, const TestPki& identity = meshPki())
      : serverTls_(serverContext(meshPki())),
        clientTls_(clientContext(meshPki(), identity)),
        sockets_(connectedPair(ioc)),
        server(std::move(sockets_.first), serverTls_),
        client(std::move(sockets_.second), clientTls_) {
    expectServerName(client);
  }

 private:
  ssl::context serverTls_;
  ssl::context clientTls_;
  std::pair<tcp::socket, tcp::socket> sockets_;  // moved into the streams

 public:
  FdTlsStream server;
  ssl::stream<tcp::socket> client;
};

// Handshakes both ends; true when both succeeded.
inline bool handshakePair(asio::io_context& ioc, FdTlsStream& server,
                          ssl::stream<tcp::socket>& client) {
  error_code serverError = asio::error::would_block;
  error_code clientError = asio::error::would_block;
  server.async_handshake(ssl::stream_base::server, [&](error_code e) { serverError = e; });
  client.async_handshake(ssl::stream_base::client, [&](error_code e) { clientError = e; });
  Coroutines(ioc).runUntil([&] {
    return serverError != asio::error::would_block && clientError != asio::error::would_block;
  });
  EXPECT_FALSE(serverError) << serverError.message();
  EXPECT_FALSE(clientError) << clientError.message();
  return !serverError && !clientError;
}

// WebSocket over the server and client of a pair; each side's handshake, TLS then upgrade.
using ServerWebSocket = websocket::stream<FdTlsStream>;
using ClientWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

inline asio::awaitable<void> acceptWebSocket(ServerWebSocket& ws, bool& accepted) {
  auto [handshakeError] =
      co_await ws.next_layer().async_handshake(ssl::stream_base::server, kTuple);
  EXPECT_FALSE(handshakeError) << "TLS handshake: " << handshakeError.message();
  if (handshakeError) co_return;
  auto [acceptError] = co_await ws.async_accept(kTuple);
  EXPECT_FALSE(acceptError) << "WebSocket accept: " << acceptError.message();
  accepted = !acceptError;
}

inline asio::awaitable<void> connectWebSocket(ClientWebSocket& ws, bool& connected) {
  expectServerName(ws.next_layer());
  auto [handshakeError] =
      co_await ws.next_layer().async_handshake(ssl::stream_base::client, kTuple);
  EXPECT_FALSE(handshakeError) << "TLS handshake: " << handshakeError.message();
  if (handshakeError) co_return;
  auto [upgradeError] = co_await ws.async_handshake(std::string(kServerName), "/config", kTuple);
  EXPECT_FALSE(upgradeError) << "WebSocket handshake: " << upgradeError.message();
  connected = !upgradeError;
}

}  // namespace meshgate::net::testing
