// Relaying bytes between two ByteStreams, TLS or plain.
#include "dataplane/proxy/stream_relay.h"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace meshgate::dp {

namespace {

using Steady = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// What ended a direction: the source's clean end (passed on as a half-close) or a failure.
enum class CopyEnd { kEndOfStream, kFailed };

// Copies `from` to `to` until `from` ends. A clean end is passed on; a failure closes both, so
// the other direction ends too. A TLS record is at most 16 KiB of data.
asio::awaitable<void> copy(ByteStream& from, ByteStream& to, Steady::time_point& lastActivity,
                           metrics::Counter* written) {
  std::array<char, 16 * 1024> buffer;
  CopyEnd end = CopyEnd::kFailed;
  for (;;) {
    auto [readError, n] = co_await from.readSome(asio::buffer(buffer));
    if (readError) {
      // Plain TCP ends with eof; TLS with eof after close_notify, stream_truncated without one.
      if (readError == asio::error::eof) end = CopyEnd::kEndOfStream;
      break;
    }
    lastActivity = Steady::now();
    auto [writeError, sent] = co_await to.writeAll(asio::buffer(buffer.data(), n));
    if (written != nullptr) written->inc(static_cast<double>(sent));
    if (writeError) break;
    lastActivity = Steady::now();
  }
  if (end == CopyEnd::kEndOfStream) {
    co_await to.finishSending();
  } else {
    from.close();
    to.close();
  }
}

}  // namespace

asio::awaitable<void> relayStreams(ByteStream& downstream, ByteStream& upstream,
                                   std::chrono::milliseconds idleTimeout,
                                   TcpRelayCounters counters) {
  using namespace asio::experimental::awaitable_operators;
  Steady::time_point lastActivity = Steady::now();
  co_await ((copy(downstream, upstream, lastActivity, counters.downstreamToUpstream) &&
             copy(upstream, downstream, lastActivity, counters.upstreamToDownstream)) ||
            closeWhenIdle(lastActivity, idleTimeout, [&] {
              downstream.close();
              upstream.close();
            }));
  downstream.close();
  upstream.close();
}

}  // namespace meshgate::dp
