// What a sidecar does with a connection its mesh listeners accepted, before any byte of HTTP.
// Outbound: a captured connection to a MeshService's cluster IP and HTTP port becomes an HTTP
// session routed to that service; one to a TCP port is relayed to an endpoint of it over mTLS
// (tcp_proxy_session.h), or closed when its authorization does not admit this workload; one to
// anything else is passed through unchanged (tcp_relay.h); one sent to the sidecar itself is an
// HTTP session routed by Host. Inbound: the application port it was going to decides — a port no
// MeshService declares is passed through to the application; on a mesh port the first byte tells
// TLS from plaintext (within the header-read timeout): TLS is terminated with the workload
// certificate (a client certificate is required), plaintext is served under Permissive and
// Disabled and refused under Strict (answered 403 on an HTTP port, closed on a TCP one); a TLS
// connection to a Disabled port is the application's own TLS and is passed through. On a TCP port
// the caller is authorized once, by its certificate, then the bytes are relayed to the application
// (stream_relay.h); a refused caller's connection is closed, and counted.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

class Worker;

boost::asio::awaitable<void> acceptMeshConnection(
    Worker& worker, boost::asio::ip::tcp::socket socket, api::ListenerRole role,
    std::string listenerName, boost::asio::ip::tcp::endpoint peer,
    std::optional<boost::asio::ip::tcp::endpoint> original);

}  // namespace meshgate::dp
