// TcpRelay: relays bytes both ways between two TCP connections, passing each side's half-close on
// to the other, until both directions end or neither moved a byte for the idle timeout. Two users:
// the sidecar passes a connection through unchanged with relayTcp (outbound to an address outside
// the mesh, inbound to an application port no MeshService declares), and a gateway's TCP
// listeners (tcp_proxy_session.h) connect with connectTcp themselves — to retry another endpoint —
// then hand both sockets to relayConnected, counting the bytes. Used only on its worker's thread.
//
// The bytes move with splice(2) through a pipe (splice_pipe.h), socket to socket inside the
// kernel, never copied to user space and back: in bench/proxy/tcp.sh (GIB=1 REPEATS=3, one worker)
// that took the proxy from 0.75 CPU s/GiB uploading, 1.06× HAProxy's `mode tcp`, to 0.22 against
// HAProxy's 0.82 (0.27×; downloading 0.19 against 0.91, 0.21×), below HAProxy splicing too (0.69,
// 0.64). Where no pipe can be had, a direction copies through a 16 KiB buffer instead.
#pragma once

#include <chrono>
#include <functional>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "metrics/counter.h"

namespace meshgate::dp {

struct TcpRelayLimits {
  std::chrono::milliseconds connectTimeout{2'000};
  std::chrono::milliseconds idleTimeout{60'000};
};

// Where relayConnected adds the bytes it wrote each way; either may be null (not counted).
struct TcpRelayCounters {
  metrics::Counter* downstreamToUpstream = nullptr;
  metrics::Counter* upstreamToDownstream = nullptr;
};

// Connects `socket` (closed or fresh) to `target`; timed_out when `timeout` passed first. On
// failure the socket is closed, ready for another try.
boost::asio::awaitable<boost::system::error_code> connectTcp(
    boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp::endpoint& target,
    std::chrono::milliseconds timeout);

// Relays between two connected sockets; both are closed when it returns. Closing either socket
// from outside (a shutdown) ends it early.
boost::asio::awaitable<void> relayConnected(boost::asio::ip::tcp::socket& downstream,
                                            boost::asio::ip::tcp::socket& upstream,
                                            std::chrono::milliseconds idleTimeout,
                                            TcpRelayCounters counters = {});

// The idle timeout of a relay, run beside its two directions (`||`): once `lastActivity`, which
// the directions move forward, is `idle` in the past, calls `closeBoth`, which ends them. Returns
// without calling it when cancelled (the directions ended first).
boost::asio::awaitable<void> closeWhenIdle(
    const std::chrono::steady_clock::time_point& lastActivity, std::chrono::milliseconds idle,
    std::function<void()> closeBoth);

// Connects to `target` (connect timeout), then relays. Returns once the relay is over; `client`
// is closed by then (at once when the connect fails).
boost::asio::awaitable<void> relayTcp(boost::asio::ip::tcp::socket client,
                                      boost::asio::ip::tcp::endpoint target, TcpRelayLimits limits);

}  // namespace meshgate::dp
