// One active health check over HTTP/2, for a cluster port in http2Ports (an HTTP/1.1 GET would not
// be understood there): a GET of the check's path on its own HTTP/2 connection, healthy on a 2xx —
// or, when the path is the gRPC health-checking protocol's (/grpc.health.v1.Health/Check), that
// protocol: a HealthCheckRequest for the whole server, healthy when the answer is grpc-status 0
// with status SERVING. Used by HealthChecker on the main thread; the caller bounds it in time.
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "dataplane/proxy/byte_stream.h"

namespace meshgate::dp {

inline constexpr std::string_view kGrpcHealthCheckPath = "/grpc.health.v1.Health/Check";

// `stream` is connected (and past its TLS handshake, with ALPN h2).
boost::asio::awaitable<bool> probeOverHttp2(ByteStream& stream, const std::string& authority,
                                            const std::string& path, bool tls);

}  // namespace meshgate::dp
