// meshgate-test-backend's HTTP/2 side: cleartext HTTP/2 with prior knowledge (h2c) on the same
// listener as HTTP/1.1 — test_backend.cc hands over a connection whose first bytes are the HTTP/2
// client preface. Driven by meshgate::dp::http2::ServerCodec (the proxy's own codec, no I/O of its
// own) from a reader and a writer coroutine. Every response carries x-backend: NAME and
// x-backend-protocol: h2.
//   Plain requests  the HTTP/1.1 routes of backend_routes.h (/, /headers, /echo, /delay?ms=N,
//                   /status/N, /requests, ...), answered once the request body is complete; the
//                   :authority becomes the host header /headers shows when there was none
//   gRPC            (content-type application/grpc...) a tiny echo service without protobuf:
//     /meshgate.test.Echo/Unary     one length-prefixed message back, then grpc-status 0
//     /meshgate.test.Echo/Stream    each message echoed as it arrives, grpc-status 0 at the end
//                                   of the request (bidirectional streaming)
//     /grpc.health.v1.Health/Check  HealthCheckResponse SERVING (08 01) or NOT_SERVING (08 02)
//     anything else                 trailers-only grpc-status 12 (UNIMPLEMENTED)
//   Request metadata that forces behaviour:
//     x-delay-ms: N                 wait N ms before replying (a stream: before its headers)
//     x-grpc-status: N              trailers-only grpc-status N, grpc-message "forced"
//     x-fail-times: K, x-fail-key: k  the first K calls with key k get trailers-only grpc-status 14
//                                   (UNAVAILABLE), later ones are served (retry tests)
//   grpc-timeout, when sent, comes back as the response header x-grpc-timeout-seen. gRPC calls
//   count in /requests. A trailers-only answer comes when the request has ended.
// Bad input (a protocol error) ends the connection, never the process; a connection that reads
// nothing for 5 minutes while the backend waits for nothing of its own, or whose client stops
// reading for 60 s, is closed.
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "test/tools/backend_routes.h"

namespace meshgate::testtools {

// The bytes a connection started with could still become the HTTP/2 client preface: they are
// a proper prefix of it (more must be read to tell).
bool isPartialHttp2Preface(std::string_view firstBytes);

// The connection starts with the whole HTTP/2 client preface (prior knowledge).
bool startsWithHttp2Preface(std::string_view firstBytes);

// Serves one h2c connection until the client closes it, a protocol error, or a timeout; then
// closes the socket. `alreadyRead` are the bytes read before, starting with the preface. Runs on
// the awaiting coroutine's executor, which must not run two handlers at once (a strand, with
// --threads N).
boost::asio::awaitable<void> serveHttp2(boost::asio::ip::tcp::socket socket,
                                        std::string alreadyRead, BackendState& state);

}  // namespace meshgate::testtools
