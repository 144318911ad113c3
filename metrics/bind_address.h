// Parses the --metrics-bind-address / --health-probe-bind-address flag values ProbeServer::start
// takes: "127.0.0.1:8080", "[::1]:8080", ":8080" (every IPv4 interface, as in controller-runtime),
// port 0 for an ephemeral port. Only IP literals: a host name would need a resolver at startup for
// no benefit inside a pod.
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "base/expected.h"

namespace metrics {

// The endpoint to bind, or a message naming what is wrong with address.
meshgate::Expected<boost::asio::ip::tcp::endpoint, std::string> parseBindAddress(
    std::string_view address);

}  // namespace metrics
