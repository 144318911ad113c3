// What the proxy knows of gRPC over HTTP/2 (grpc/grpc's PROTOCOL-HTTP2.md): which requests are
// gRPC, the grpc-timeout header, the grpc-status of a response that carries it in its headers
// (Trailers-Only), the status a local reply maps to (gRPC's "HTTP to gRPC Status Code Mapping":
// 403 → PERMISSION_DENIED, 503 → UNAVAILABLE, …) and grpc-message's percent-encoding. Pure
// functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshgate::dp {

// A request is gRPC when its content-type is application/grpc or application/grpc+<subtype>.
bool isGrpcContentType(std::string_view contentType);

// The gRPC status code (0–16) for a local reply's HTTP status.
unsigned grpcStatusForHttp(unsigned httpStatus);

// grpc-message's percent-encoding: bytes outside printable ASCII and '%' become %XX.
std::string percentEncodeGrpcMessage(std::string_view message);

// grpc-timeout ("1*8DIGIT unit", unit H M S m u n) as a duration, rounded up to whole
// milliseconds; nullopt when malformed.
std::optional<std::chrono::milliseconds> parseGrpcTimeout(std::string_view value);

// The grpc-status among `headers` (name, value pairs, names lowercase), when there is a valid one.
template <class Headers>
std::optional<unsigned> grpcStatusIn(const Headers& headers) {
  for (const auto& header : headers) {
    if (std::string_view(header.name) != "grpc-status") continue;
    const std::string_view value = header.value;
    if (value.empty() || value.size() > 2) return std::nullopt;
    unsigned status = 0;
    for (const char c : value) {
      if (c < '0' || c > '9') return std::nullopt;
      status = status * 10 + static_cast<unsigned>(c - '0');
    }
    return status;
  }
  return std::nullopt;
}

}  // namespace meshgate::dp
