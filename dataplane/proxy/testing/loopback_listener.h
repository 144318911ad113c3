// listenOnLoopback: puts an acceptor of an in-process test server (echo_server.h,
// tls_echo_server.h, http2_app.h, scripted_upstream.h) in the listening state on 127.0.0.1 and an
// ephemeral port, and says which port. Throws, as Asio does, when it cannot. Header-only test code.
#pragma once

#include <cstdint>

#include <boost/asio/ip/tcp.hpp>

namespace meshgate::dp::testing {

inline uint16_t listenOnLoopback(boost::asio::ip::tcp::acceptor& acceptor) {
  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
  acceptor.open(endpoint.protocol());
  acceptor.bind(endpoint);
  acceptor.listen();
  return acceptor.local_endpoint().port();
}

}  // namespace meshgate::dp::testing
