// The test backend's TCP echo (--tcp-echo ADDR:PORT): every byte a connection brings is written
// back, and the client's half-close is answered with one, so a client reads the exact bytes it
// sent followed by the end of the stream. For the proxy's TCP ports (MeshService `protocol: TCP`,
// TCP listeners) on the real node.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace meshgate::testtools {

// Accepts on `acceptor` until it is closed; each connection echoed on a coroutine of its own.
boost::asio::awaitable<void> tcpEchoLoop(boost::asio::ip::tcp::acceptor& acceptor);

}  // namespace meshgate::testtools
