// Passing a TCP connection through, both ways, with connect and idle timeouts.
#include "dataplane/proxy/tcp_relay.h"

#include <array>
#include <tuple>

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

// Reads and writes are first tried at once (the sockets are non-blocking): while bytes are
// waiting, which under load they nearly always are, a copy moves them without a trip through the
// worker's scheduler and its epoll_wait. After kImmediateReads reads in a row it waits on the
// scheduler once, so one busy connection cannot starve the worker's others.
constexpr int kImmediateReads = 8;

asio::awaitable<void> copy(tcp::socket& from, tcp::socket& to, Steady::time_point& lastActivity,
                           metrics::Counter* written) {
  std::array<char, 16 * 1024> buffer;
  boost::system::error_code ignored;
  from.non_blocking(true, ignored);
  to.non_blocking(true, ignored);
  int immediate = 0;
  for (;;) {
    boost::system::error_code readError;
    size_t n = 0;
    if (immediate < kImmediateReads) {
      n = from.read_some(asio::buffer(buffer), readError);
      ++immediate;
    } else {
      readError = asio::error::would_block;
    }
    if (readError == asio::error::would_block) {
      immediate = 0;
      std::tie(readError, n) = co_await from.async_read_some(asio::buffer(buffer), kNoThrow);
    }
    if (readError || n == 0) break;
    lastActivity = Steady::now();
    boost::system::error_code writeError;
    size_t sent = to.write_some(asio::buffer(buffer.data(), n), writeError);
    if (writeError == asio::error::would_block) {
      writeError = {};
      sent = 0;
    }
    if (!writeError && sent < n) {
      auto [asyncError, rest] =
          co_await asio::async_write(to, asio::buffer(buffer.data() + sent, n - sent), kNoThrow);
      writeError = asyncError;
      sent += rest;
    }
    if (written != nullptr) written->inc(static_cast<double>(sent));
    if (writeError) break;
    lastActivity = Steady::now();
  }
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

asio::awaitable<boost::system::error_code> connectTcp(tcp::socket& socket,
                                                      const tcp::endpoint& target,
                                                      std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer connectTimer(co_await asio::this_coro::executor);
  connectTimer.expires_after(timeout);
  auto connected =
      co_await (socket.async_connect(target, kNoThrow) || connectTimer.async_wait(kNoThrow));
  boost::system::error_code ec = connected.index() == 0
                                     ? std::get<0>(std::get<0>(connected))
                                     : boost::system::error_code(asio::error::timed_out);
  boost::system::error_code ignored;
  if (ec) {
    socket.close(ignored);
    co_return ec;
  }
  socket.set_option(tcp::no_delay(true), ignored);
  co_return ec;
}

asio::awaitable<void> relayConnected(tcp::socket& downstream, tcp::socket& upstream,
                                     std::chrono::milliseconds idleTimeout,
                                     TcpRelayCounters counters) {
  using namespace asio::experimental::awaitable_operators;
  Steady::time_point lastActivity = Steady::now();
  co_await ((copy(downstream, upstream, lastActivity, counters.downstreamToUpstream) &&
             copy(upstream, downstream, lastActivity, counters.upstreamToDownstream)) ||
            idleWatch(downstream, upstream, lastActivity, idleTimeout));
  boost::system::error_code ignored;
  downstream.close(ignored);
  upstream.close(ignored);
}

asio::awaitable<void> relayTcp(tcp::socket client, tcp::endpoint target, TcpRelayLimits limits) {
  tcp::socket upstream(co_await asio::this_coro::executor);
  if (co_await connectTcp(upstream, target, limits.connectTimeout)) {
    boost::system::error_code ignored;
    client.close(ignored);
    co_return;
  }
  co_await relayConnected(client, upstream, limits.idleTimeout);
}

}  // namespace meshgate::dp
