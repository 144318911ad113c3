// Retries: the retry policy shared by MeshService (`spec.retries`) and ApiRoute rules
// (`spec.rules[].retries`). Durations keep their wire text; see api/duration.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshgate::api {

struct Backoff {
  std::optional<std::string> base{};
  std::optional<std::string> max{};

  bool operator==(const Backoff&) const = default;
};

struct Retries {
  std::optional<std::int64_t> attempts{};
  std::optional<std::string> perTryTimeout{};
  // Values from retry_on::kAll; absent means what the proxy defaults to (connect-failure, reset).
  std::vector<std::string> retryOn{};
  std::optional<Backoff> backoff{};

  bool operator==(const Retries&) const = default;
};

namespace retry_on {
inline constexpr std::string_view kConnectFailure = "connect-failure";
inline constexpr std::string_view kReset = "reset";
inline constexpr std::string_view k5xx = "5xx";
inline constexpr std::string_view kGatewayError = "gateway-error";
inline constexpr std::string_view kRetriable4xx = "retriable-4xx";
// gRPC: the grpc-status of a response whose status comes with its headers (a "Trailers-Only"
// response, what a gRPC server or the proxy sends when a call fails before any message).
inline constexpr std::string_view kCancelled = "cancelled";
inline constexpr std::string_view kDeadlineExceeded = "deadline-exceeded";
inline constexpr std::string_view kResourceExhausted = "resource-exhausted";
inline constexpr std::string_view kUnavailable = "unavailable";
}  // namespace retry_on

}  // namespace meshgate::api
