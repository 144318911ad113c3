// Passing a TCP connection through, both ways, with connect and idle timeouts: each direction
// splices its bytes through a pipe (kernel to kernel), copying through a buffer only as the
// fallback.
#include "dataplane/proxy/tcp_relay.h"

#include <array>
#include <optional>
#include <tuple>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "dataplane/proxy/splice_pipe.h"

namespace meshgate::dp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Each direction moves its bytes with splice(2), socket → pipe → socket (splice_pipe.h): the
// kernel hands the socket's pages on instead of copying them into a user-space buffer and out
// again (see tcp_relay.h for what that saves). Copying through a 16 KiB buffer stays as the
// fallback, per direction, when no pipe can be had (EMFILE, ENFILE, a user past its pipe pages) or
// the kernel refuses to splice the sockets.
//
// Splices, reads and writes are first tried at once (the sockets are non-blocking): while bytes are
// waiting, which under load they nearly always are, a direction moves them without a trip through
// the worker's scheduler and its epoll_wait. After kImmediateMoves moves in a row (a move: one
// fill and drain of the pipe, up to 1 MiB, or one read and write of the copy) it waits on the
// scheduler once, so one busy connection cannot starve the worker's others. Yielding after every
// move instead cost 40% more CPU per GiB in the benchmark.
constexpr int kImmediateMoves = 8;

// Writes data[0, size) to `to`, at once as far as it goes, then awaiting; counts what was written.
// False when the write failed.
asio::awaitable<bool> writeAll(tcp::socket& to, const char* data, size_t size,
                               Steady::time_point& lastActivity, metrics::Counter* written) {
  boost::system::error_code writeError;
  size_t sent = to.write_some(asio::buffer(data, size), writeError);
  if (writeError == asio::error::would_block) {
    writeError = {};
    sent = 0;
  }
  if (!writeError && sent < size) {
    auto [asyncError, rest] =
        co_await asio::async_write(to, asio::buffer(data + sent, size - sent), kNoThrow);
    writeError = asyncError;
    sent += rest;
  }
  if (written != nullptr) written->inc(static_cast<double>(sent));
  if (writeError) co_return false;
  lastActivity = Steady::now();
  co_return true;
}

// Copies through a user-space buffer until `from` ends or either side fails. Bytes left in
// `leftover` (a pipe whose destination refused splices) go first.
asio::awaitable<void> copy(tcp::socket& from, tcp::socket& to, Steady::time_point& lastActivity,
                           metrics::Counter* written, SplicePipe* leftover) {
  std::array<char, 16 * 1024> buffer;
  while (leftover != nullptr && leftover->buffered() > 0) {
    boost::system::error_code readError;
    const size_t n = leftover->read(buffer.data(), buffer.size(), readError);
    if (readError) co_return;
    if (!co_await writeAll(to, buffer.data(), n, lastActivity, written)) co_return;
  }
  int immediate = 0;
  for (;;) {
    boost::system::error_code readError;
    size_t n = 0;
    if (immediate < kImmediateMoves) {
      n = from.read_some(asio::buffer(buffer), readError);
      ++immediate;
    } else {
      readError = asio::error::would_block;
    }
    if (readError == asio::error::would_block) {
      immediate = 0;
      std::tie(readError, n) = co_await from.async_read_some(asio::buffer(buffer), kNoThrow);
    }
    if (readError || n == 0) co_return;
    lastActivity = Steady::now();
    if (!co_await writeAll(to, buffer.data(), n, lastActivity, written)) co_return;
  }
}

enum class SpliceEnd {
  kEnded,        // `from` ended, either side failed or was closed
  kNoPipe,       // no pipe to be had (SplicePipe::acquire): copy the rest
  kUnsupported,  // the kernel refuses to splice these sockets: copy the rest
};

// Splices from `from` into `to` through a pipe it takes into `pipe` while bytes are in flight and
// gives back while it waits for them. Every fill of the pipe is drained into `to` before the next,
// so the pipe is empty whenever `from` is read — and at its end of stream, after which the caller
// passes the half-close on. Native handles are taken afresh for every call: a socket closed from
// outside (shutdown, abort, the idle watch) is -1 then, never a reused descriptor.
asio::awaitable<SpliceEnd> spliceThrough(std::optional<SplicePipe>& pipe, tcp::socket& from,
                                         tcp::socket& to, Steady::time_point& lastActivity,
                                         metrics::Counter* written) {
  int immediate = 0;
  for (;;) {
    boost::system::error_code ec;
    if (!pipe) {
      pipe = SplicePipe::acquire(ec);
      if (!pipe) co_return SpliceEnd::kNoPipe;
    }
    const size_t n = pipe->fill(from.native_handle(), ec);
    if (ec == asio::error::would_block) {
      SplicePipe::release(std::move(*pipe));
      pipe.reset();
      immediate = 0;
      auto [waitError] = co_await from.async_wait(tcp::socket::wait_read, kNoThrow);
      if (waitError) co_return SpliceEnd::kEnded;
      continue;
    }
    if (SplicePipe::unsupported(ec)) co_return SpliceEnd::kUnsupported;
    if (ec || n == 0) co_return SpliceEnd::kEnded;
    lastActivity = Steady::now();
    while (pipe->buffered() > 0) {
      const size_t sent = pipe->drain(to.native_handle(), ec);
      if (sent > 0) {
        if (written != nullptr) written->inc(static_cast<double>(sent));
        lastActivity = Steady::now();
      } else if (ec == asio::error::would_block) {
        immediate = 0;
        auto [waitError] = co_await to.async_wait(tcp::socket::wait_write, kNoThrow);
        if (waitError) co_return SpliceEnd::kEnded;
      } else {
        co_return SplicePipe::unsupported(ec) ? SpliceEnd::kUnsupported : SpliceEnd::kEnded;
      }
    }
    if (++immediate >= kImmediateMoves) {
      immediate = 0;
      co_await asio::post(co_await asio::this_coro::executor, kNoThrow);
    }
  }
}

// One direction, from `from` to `to`, until `from` ends or either side fails; then the half-close
// is passed on, after every byte read was written. A socket closed from outside closes the other
// too, so that the other direction ends even when it waits on that one.
asio::awaitable<void> relayDirection(tcp::socket& from, tcp::socket& to,
                                     Steady::time_point& lastActivity, metrics::Counter* written) {
  boost::system::error_code ignored;
  from.non_blocking(true, ignored);
  to.non_blocking(true, ignored);
  std::optional<SplicePipe> pipe;  // closed with the frame, whatever ends it
  if (co_await spliceThrough(pipe, from, to, lastActivity, written) != SpliceEnd::kEnded)
    co_await copy(from, to, lastActivity, written, pipe ? &*pipe : nullptr);
  if (pipe) SplicePipe::release(std::move(*pipe));  // kept only when empty
  if (!from.is_open() || !to.is_open()) {
    // Closed from outside: the other direction may be waiting on the socket still open.
    from.close(ignored);
    to.close(ignored);
  } else {
    to.shutdown(tcp::socket::shutdown_send, ignored);
  }
}

void closeBoth(tcp::socket& a, tcp::socket& b) {
  boost::system::error_code ignored;
  a.close(ignored);
  b.close(ignored);
}

}  // namespace

asio::awaitable<void> closeWhenIdle(const Steady::time_point& lastActivity,
                                    std::chrono::milliseconds idle,
                                    std::function<void()> closeBoth) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto deadline = lastActivity + idle;
    if (Steady::now() >= deadline) break;
    timer.expires_at(deadline);
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec) co_return;  // cancelled: both directions ended first
  }
  closeBoth();
}

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
  co_await ((relayDirection(downstream, upstream, lastActivity, counters.downstreamToUpstream) &&
             relayDirection(upstream, downstream, lastActivity, counters.upstreamToDownstream)) ||
            closeWhenIdle(lastActivity, idleTimeout, [&] { closeBoth(downstream, upstream); }));
  closeBoth(downstream, upstream);
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
