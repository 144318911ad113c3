// StreamRelay: copies bytes both ways between two ByteStreams, either of which may be TLS — the
// sidecar's mesh TCP ports, where the connection between the two sidecars is mTLS and the ones to
// the applications are plain. Like relayConnected (tcp_relay.h), which it leaves the plain-to-plain
// case to: each direction ends on its own, a half-close is passed on (on TLS as close_notify, then
// FIN: ByteStream::finishSending), and the relay ends when both directions ended or neither moved
// a byte for the idle timeout. A TLS stream that ends without close_notify (a truncation) is an
// error, not a half-close: both connections are closed at once. Used only on its worker's thread.
#pragma once

#include <chrono>

#include <boost/asio/awaitable.hpp>

#include "dataplane/proxy/byte_stream.h"
#include "dataplane/proxy/tcp_relay.h"

namespace meshgate::dp {

// Relays until both directions ended, either failed, or the idle timeout passed; both streams are
// closed when it returns. Closing either stream's socket from outside (a shutdown) ends it early.
boost::asio::awaitable<void> relayStreams(ByteStream& downstream, ByteStream& upstream,
                                          std::chrono::milliseconds idleTimeout,
                                          TcpRelayCounters counters = {});

}  // namespace meshgate::dp
