// Peeking a client's TLS ClientHello off a freshly accepted socket (tls_client_hello.h parses it),
// for a listener that routes TLS passthrough by server name: nothing is read from the socket, so
// afterwards the caller relays the connection, ClientHello included, byte for byte. Linux only
// (MSG_PEEK, SO_RCVLOWAT, POLLRDHUP). Used on the socket's executor, by one coroutine at a time.
#pragma once

#include <chrono>
#include <cstddef>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "dataplane/proxy/tls_client_hello.h"

namespace meshgate::dp {

// Waits until the client has sent a whole ClientHello, or shown it will not, and returns
// parseClientHello's verdict on it (kComplete, kNotTls, kMalformed, kTooLarge), or kTimedOut when
// `timeout` passed first, or kClosed when the client closed or reset the connection first (or the
// socket failed). Anything but kComplete and kNotTls means: refuse the connection.
//
// Waiting for more bytes once some are queued: a peek leaves them unread, so the socket stays
// readable and a plain wait would return at once. While it waits, SO_RCVLOWAT is set to one byte
// more than is queued, which makes the socket readable again only when new bytes arrive (or on
// end of stream or an error); it is put back as it was before returning. Should the socket
// still wake with nothing new and no end of stream (it should not), a timer pause of 1 ms,
// doubling up to 50 ms, keeps that from spinning. `maxBytes` as for parseClientHello; the peek
// buffer starts at 4 KiB and grows up to it only as bytes arrive.
boost::asio::awaitable<ClientHelloInfo> peekClientHello(
    boost::asio::ip::tcp::socket& socket, std::chrono::milliseconds timeout,
    size_t maxBytes = kDefaultMaxClientHelloBytes);

}  // namespace meshgate::dp
