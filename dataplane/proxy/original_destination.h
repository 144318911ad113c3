// Where a captured connection was going. The capture rules (dataplane/capture/) REDIRECT an
// application's connections to the sidecar's ports; netfilter keeps the address the client asked
// for, which SO_ORIGINAL_DST (IPv4) and IP6T_SO_ORIGINAL_DST (IPv6) read back. A connection that
// was not redirected — a client that called the sidecar's port itself — reports its own local
// address, which reads here as "no original destination". Tests substitute the lookup.
#pragma once

#include <functional>
#include <optional>

#include <boost/asio/ip/tcp.hpp>

namespace meshgate::dp {

using OriginalDestinationLookup =
    std::function<std::optional<boost::asio::ip::tcp::endpoint>(boost::asio::ip::tcp::socket&)>;

// netfilter's original destination of `socket`, nullopt when it was not redirected.
std::optional<boost::asio::ip::tcp::endpoint> netfilterOriginalDestination(
    boost::asio::ip::tcp::socket& socket);

}  // namespace meshgate::dp
