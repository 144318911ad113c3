// What a listener with TLS passthrough routes (listeners[].tlsPassthrough) does with a connection
// it accepted: it peeks the ClientHello (tls_client_hello_peek.h, within the header-read timeout,
// reading nothing off the socket) and looks its server name up in the listener's SniTable. A
// match is relayed byte for byte, ClientHello included, to an endpoint of that route's cluster
// (tcp_proxy_session.h), never decrypted. Anything else — another name, no name, a ClientHello
// that does not parse or arrive in time, plaintext — is terminated with the listener's `tls` and
// served as HTTPS when the listener has it, and closed otherwise; each counted under
// meshgate_proxy_tcp_connections_total{listener, result="no_route"}.
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace meshgate::dp {

class Worker;

boost::asio::awaitable<void> acceptTlsPassthrough(Worker& worker,
                                                  boost::asio::ip::tcp::socket socket,
                                                  std::string listenerName,
                                                  boost::asio::ip::tcp::endpoint peer);

}  // namespace meshgate::dp
