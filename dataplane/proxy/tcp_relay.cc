// Passing a TCP connection through, both ways, with connect and idle timeouts.
#include "dataplane/proxy/tcp_relay.h"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace meshgate::dp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> copy(tcp::socket& from, tcp::socket& to, Steady::time_point& lastActivity) {
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    auto [readError, n] = co_await from.async_read_some(asio::buffer(buffer), kNoThrow);
    if (readError || n == 0) break;
    lastActivity = Steady::now();
    auto [writeError, written] =
        co_await asio::async_write(to, asio::buffer(buffer.data(), n), kNoThrow);
    if (writeError) break;
    lastActivity = Steady::now();
  }
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

// Ends when nothing moved for `idle`: closing both sockets ends the copies.
asio::awaitable<void> idleWatch(tcp::socket& a, tcp::socket& b, Steady::time_point& lastActivity,
                                std::chrono::milliseconds idle) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto deadline = lastActivity + idle;
    if (Steady::now() >= deadline) break;
    timer.expires_at(deadline);
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec) co_return;  // cancelled: the copies ended first
  }
  boost::system::error_code ignored;
  a.close(ignored);
  b.close(ignored);
}

}  // namespace

asio::awaitable<void> relayTcp(tcp::socket client, tcp::endpoint target, TcpRelayLimits limits) {
  using namespace asio::experimental::awaitable_operators;
  const auto executor = co_await asio::this_coro::executor;
  tcp::socket upstream(executor);
  asio::steady_timer connectTimer(executor);
  connectTimer.expires_after(limits.connectTimeout);
  auto connected =
      co_await (upstream.async_connect(target, kNoThrow) || connectTimer.async_wait(kNoThrow));
  boost::system::error_code ignored;
  if (connected.index() != 0 || std::get<0>(std::get<0>(connected))) {
    client.close(ignored);
    co_return;
  }
  upstream.set_option(tcp::no_delay(true), ignored);
  Steady::time_point lastActivity = Steady::now();
  co_await ((copy(client, upstream, lastActivity) && copy(upstream, client, lastActivity)) ||
            idleWatch(client, upstream, lastActivity, limits.idleTimeout));
  client.close(ignored);
  upstream.close(ignored);
}

}  // namespace meshgate::dp
