// TcpRelay: a connection the sidecar passes through unchanged — outbound to an address outside
// the mesh, inbound to an application port no MeshService declares. It connects to the target
// (connect timeout), then copies bytes both ways, passing each side's half-close on to the other,
// until both directions end or neither moved a byte for the idle timeout. Used only on its worker's
// thread.
#pragma once

#include <chrono>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace meshgate::dp {

struct TcpRelayLimits {
  std::chrono::milliseconds connectTimeout{2'000};
  std::chrono::milliseconds idleTimeout{60'000};
};

// Returns once the relay is over; `client` is closed by then.
boost::asio::awaitable<void> relayTcp(boost::asio::ip::tcp::socket client,
                                      boost::asio::ip::tcp::endpoint target, TcpRelayLimits limits);

}  // namespace meshgate::dp
