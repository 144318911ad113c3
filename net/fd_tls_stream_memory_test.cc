// The heap an idle mutual-TLS WebSocket connection costs on an FdTlsStream server, measured
// over many connections and compared with the budget (and with beast::ssl_stream in the note).
#include "net/fd_tls_stream.h"

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

#include "net/testing/tls_stream_pair.h"

namespace meshgate::net {
namespace {

using namespace meshgate::net::testing;

// --- 7. Memory of idle connections -------------------------------------------------------------

constexpr int kIdleConnections = 200;

#if defined(__SANITIZE_ADDRESS__)
// From libasan (GCC ships no header for it): the bytes the program holds from ASan's allocator.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

// Bytes the process has allocated and not freed: glibc's count, or AddressSanitizer's when its
// allocator replaces glibc's (mallinfo2 then sees nothing).
std::size_t heapInUse() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#endif
}

asio::awaitable<void> idleClient(ClientWebSocket& ws, tcp::endpoint server, int& failures) {
  auto [connectError] = co_await beast::get_lowest_layer(ws).async_connect(server, kTuple);
  if (connectError) {
    ++failures;
    co_return;
  }
  bool connected = false;
  co_await connectWebSocket(ws, connected);
  beast::flat_buffer buffer;
  auto [readError, n] = co_await ws.async_read(buffer, kTuple);
  auto [writeError, written] = co_await ws.async_write(asio::buffer(std::string("ho")), kTuple);
  if (!connected || readError || writeError) ++failures;
  // Idle until the server goes away.
  co_await ws.async_read(buffer, kTuple);
}

// The clients, in a child process so that the measured heap holds only server objects. The
// server's port arrives through `portPipe`. Exits 0 when every client got through its exchange.
[[noreturn]] void runIdleClients(int portPipe) {
  unsigned short port = 0;
  if (::read(portPipe, &port, sizeof port) != sizeof port) ::_exit(2);
  asio::io_context ioc;
  auto tls = clientContext(meshPki(), meshPki());
  std::vector<std::unique_ptr<ClientWebSocket>> clients;
  int failures = 0;
  int finished = 0;
  for (int i = 0; i < kIdleConnections; ++i) {
    clients.push_back(std::make_unique<ClientWebSocket>(ioc, tls));
    asio::co_spawn(ioc,
                   idleClient(*clients.back(),
                              tcp::endpoint(asio::ip::address_v4::loopback(), port), failures),
                   [&](std::exception_ptr error) {
                     if (error) ++failures;
                     ++finished;
                   });
  }
  ioc.run_for(120s);
  ::_exit(failures == 0 && finished == kIdleConnections ? 0 : 1);
}

template <class ServerWs>
asio::awaitable<void> idleServer(ServerWs& ws, beast::flat_buffer& buffer, int& idle,
                                 int& failures) {
  auto [handshakeError] =
      co_await ws.next_layer().async_handshake(ssl::stream_base::server, kTuple);
  if (!handshakeError) {
    auto [acceptError] = co_await ws.async_accept(kTuple);
    if (!acceptError) {
      auto [writeError, written] = co_await ws.async_write(asio::buffer(std::string("hi")), kTuple);
      auto [readError, n] = co_await ws.async_read(buffer, kTuple);
      if (!writeError && !readError) {
        buffer.consume(buffer.size());
        ++idle;
        // Idle with a read pending, as a config session between ACKs.
        co_await ws.async_read(buffer, kTuple);
        co_return;
      }
    }
  }
  ++failures;
}

// Heap bytes per idle server connection (server objects only), or -1 when the setup failed.
template <class ServerWs>
double idleServerBytesPerConnection() {
  int portPipe[2];
  if (::pipe(portPipe) != 0) return -1;
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    ::close(portPipe[1]);
    runIdleClients(portPipe[0]);
  }
  ::close(portPipe[0]);

  double perConnection = -1;
  {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const unsigned short port = acceptor.local_endpoint().port();
    const bool portSent = ::write(portPipe[1], &port, sizeof port) == sizeof port;
    ::close(portPipe[1]);
    if (portSent) {
      std::vector<tcp::socket> sockets;
      for (int i = 0; i < kIdleConnections; ++i)
        sockets.push_back(acceptor.accept());
      auto tls = serverContext(meshPki());
      std::vector<std::unique_ptr<ServerWs>> servers;
      servers.reserve(kIdleConnections);
      std::vector<beast::flat_buffer> buffers(kIdleConnections);
      int idle = 0;
      int failures = 0;
      Coroutines coroutines(ioc);

      const std::size_t before = heapInUse();
      for (int i = 0; i < kIdleConnections; ++i) {
        servers.push_back(std::make_unique<ServerWs>(std::move(sockets[i]), tls));
        coroutines.spawn(idleServer(*servers.back(), buffers[i], idle, failures));
      }
      const bool allIdle =
          coroutines.runUntil([&] { return idle == kIdleConnections || failures > 0; }, 60s);
      const std::size_t after = heapInUse();
      EXPECT_TRUE(allIdle && idle == kIdleConnections)
          << idle << " connections idle, " << failures << " failed";
      if (allIdle && idle == kIdleConnections) {
        perConnection = (static_cast<double>(after) - static_cast<double>(before)) /
                        static_cast<double>(kIdleConnections);
      }
      for (auto& server : servers)
        beast::get_lowest_layer(*server).close();
      coroutines.run();
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the client process failed";
  return perConnection;
}

TEST(FdTlsStreamTest, IdleWebSocketConnectionCostsUnder40KiBOfHeap) {
  meshPki();  // Generated before the fork, shared by the client process.
  const double fd = idleServerBytesPerConnection<ServerWebSocket>();
  const double beastSsl =
      idleServerBytesPerConnection<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>();
  std::printf(
      "[ memory   ] idle mutual-TLS WebSocket server connection, heap per connection:\n"
      "[ memory   ]   websocket::stream<FdTlsStream>:                         %.0f bytes\n"
      "[ memory   ]   websocket::stream<beast::ssl_stream<beast::tcp_stream>>: %.0f bytes\n",
      fd, beastSsl);
  EXPECT_GT(fd, 0);
  EXPECT_LT(fd, 40 * 1024);
}

}  // namespace
}  // namespace meshgate::net
