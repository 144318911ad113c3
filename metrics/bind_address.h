// Bind addresses of the servers a pod exposes (ProbeServer, the webhook's AdmissionServer): parses
// the --*-bind-address flag values — "127.0.0.1:8080", "[::1]:8080", ":8080" (every IPv4
// interface, as in controller-runtime), port 0 for an ephemeral port — and opens the listener.
// Only IP literals: a host name would need a resolver at startup for no benefit inside a pod.
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "base/expected.h"

namespace metrics {

// The endpoint to bind, or a message naming what is wrong with address.
meshgate::Expected<boost::asio::ip::tcp::endpoint, std::string> parseBindAddress(
    std::string_view address);

// Opens `acceptor` on `endpoint` with SO_REUSEADDR, binds and listens. Returns the bound endpoint
// (the ephemeral port for port 0), or "<step> <endpoint>: <reason>" (e.g. "bind 127.0.0.1:80:
// Permission denied").
meshgate::Expected<boost::asio::ip::tcp::endpoint, std::string> listenOn(
    boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace metrics
