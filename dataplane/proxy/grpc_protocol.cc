// gRPC protocol details the proxy needs.
#include "dataplane/proxy/grpc_protocol.h"

#include "base/ascii.h"

namespace meshgate::dp {

bool isGrpcContentType(std::string_view contentType) {
  constexpr std::string_view kGrpc = "application/grpc";
  if (contentType.size() < kGrpc.size() ||
      !asciiEqualsIgnoreCase(contentType.substr(0, kGrpc.size()), kGrpc))
    return false;
  if (contentType.size() == kGrpc.size()) return true;
  const char next = contentType[kGrpc.size()];
  return next == '+' || next == ';';
}

unsigned grpcStatusForHttp(unsigned httpStatus) {
  switch (httpStatus) {
    case 400:
      return 13;  // INTERNAL
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
      return 12;  // UNIMPLEMENTED
    case 408:
    case 504:
      return 4;  // DEADLINE_EXCEEDED
    case 413:
    case 429:
      return 8;  // RESOURCE_EXHAUSTED
    case 502:
    case 503:
      return 14;  // UNAVAILABLE
    default:
      return 2;  // UNKNOWN
  }
}

std::string percentEncodeGrpcMessage(std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(message.size());
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7E && byte != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

std::optional<std::chrono::milliseconds> parseGrpcTimeout(std::string_view value) {
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  uint64_t amount = 0;
  for (const char c : value.substr(0, value.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    amount = amount * 10 + static_cast<uint64_t>(c - '0');
  }
  // Nanoseconds per unit; the result is rounded up so a short timeout never becomes none.
  uint64_t nanosPerUnit = 0;
  switch (value.back()) {
    case 'H':
      nanosPerUnit = 3'600'000'000'000ULL;
      break;
    case 'M':
      nanosPerUnit = 60'000'000'000ULL;
      break;
    case 'S':
      nanosPerUnit = 1'000'000'000ULL;
      break;
    case 'm':
      nanosPerUnit = 1'000'000ULL;
      break;
    case 'u':
      nanosPerUnit = 1'000ULL;
      break;
    case 'n':
      nanosPerUnit = 1ULL;
      break;
    default:
      return std::nullopt;
  }
  // 8 digits of hours is about 1.1e21 ns: saturate instead of overflowing.
  constexpr uint64_t kMaxMillis = 100ULL * 365 * 24 * 3600 * 1000;
  const uint64_t millisPerUnit = nanosPerUnit / 1'000'000ULL;
  uint64_t millis = 0;
  if (millisPerUnit > 0) {
    millis = amount > kMaxMillis / millisPerUnit ? kMaxMillis : amount * millisPerUnit;
  } else {
    millis = (amount * nanosPerUnit + 999'999ULL) / 1'000'000ULL;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(millis));
}

}  // namespace meshgate::dp
