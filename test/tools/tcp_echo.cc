// The TCP echo: read, write back, half-close after the client's.
#include "test/tools/tcp_echo.h"

#include <array>
#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace meshgate::testtools {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

net::awaitable<void> echo(tcp::socket socket) {
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    auto [readError, n] = co_await socket.async_read_some(net::buffer(buffer), kNoThrow);
    if (readError == net::error::eof) break;  // the client is done: so are we, after its bytes
    if (readError) co_return;                 // reset: nothing more to say
    auto [writeError, written] =
        co_await net::async_write(socket, net::buffer(buffer.data(), n), kNoThrow);
    if (writeError) co_return;
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

net::awaitable<void> tcpEchoLoop(tcp::acceptor& acceptor) {
  net::steady_timer pause(acceptor.get_executor());
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(kNoThrow);
    if (error == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (error) {
      // Out of descriptors, most likely: wait for some to close rather than spin.
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    net::co_spawn(acceptor.get_executor(), echo(std::move(socket)), net::detached);
  }
}

}  // namespace meshgate::testtools
