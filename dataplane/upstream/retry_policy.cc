// Retry conditions and jittered exponential backoff.
#include "dataplane/upstream/retry_policy.h"

#include <algorithm>
#include <string_view>

namespace meshgate::dp {

Expected<RetryPolicy, std::string> RetryPolicy::create(const RetryConfig& config) {
  unsigned conditions = 0;
  for (const std::string_view value : config.retryOn) {
    if (value == "connect-failure") {
      conditions |= kConnectFailure;
    } else if (value == "reset") {
      conditions |= kReset;
    } else if (value == "5xx") {
      conditions |= k5xx;
    } else if (value == "gateway-error") {
      conditions |= kGatewayError;
    } else if (value == "retriable-4xx") {
      conditions |= kRetriable4xx;
    } else if (value == "cancelled") {
      conditions |= kGrpcCancelled;
    } else if (value == "deadline-exceeded") {
      conditions |= kGrpcDeadlineExceeded;
    } else if (value == "resource-exhausted") {
      conditions |= kGrpcResourceExhausted;
    } else if (value == "unavailable") {
      conditions |= kGrpcUnavailable;
    } else {
      return "unknown retryOn value \"" + std::string(value) + "\"";
    }
  }
  if (config.retryOn.empty()) conditions = kConnectFailure | kReset;
  return RetryPolicy(config.retries, conditions, config.backoffBase,
                     std::max(config.backoffMax, config.backoffBase));
}

bool RetryPolicy::shouldRetry(AttemptOutcome outcome, unsigned status, unsigned attemptsSoFar,
                              std::optional<unsigned> grpcStatus) const {
  if (attemptsSoFar > retries_) return false;
  constexpr unsigned kAnyNoResponse = k5xx | kGatewayError;
  switch (outcome) {
    case AttemptOutcome::ConnectFailure:
      return (conditions_ & (kConnectFailure | kAnyNoResponse)) != 0;
    case AttemptOutcome::Reset:
    case AttemptOutcome::Timeout:
      return (conditions_ & (kReset | kAnyNoResponse)) != 0;
    case AttemptOutcome::Response:
      if ((conditions_ & k5xx) && status >= 500 && status <= 599) return true;
      if ((conditions_ & kGatewayError) && status >= 502 && status <= 504) return true;
      if ((conditions_ & kRetriable4xx) && status == 409) return true;
      if (grpcStatus) {
        switch (*grpcStatus) {
          case 1:
            return (conditions_ & kGrpcCancelled) != 0;
          case 4:
            return (conditions_ & kGrpcDeadlineExceeded) != 0;
          case 8:
            return (conditions_ & kGrpcResourceExhausted) != 0;
          case 14:
            return (conditions_ & kGrpcUnavailable) != 0;
          default:
            return false;
        }
      }
      return false;
  }
  return false;
}

std::chrono::milliseconds RetryPolicy::backoff(unsigned retryNumber, std::mt19937_64& rng) const {
  const auto base = static_cast<uint64_t>(std::max<int64_t>(base_.count(), 0));
  const auto max = static_cast<uint64_t>(std::max<int64_t>(max_.count(), 0));
  // (2^n − 1) × base, saturating at max: stop doubling once past it (and before overflow).
  const unsigned n = std::clamp(retryNumber, 1u, 63u);
  uint64_t bound = max;
  if (base == 0) {
    bound = 0;
  } else if (n < 63 && ((uint64_t{1} << n) - 1) <= max / base) {
    bound = ((uint64_t{1} << n) - 1) * base;
  }
  if (bound == 0) return std::chrono::milliseconds(0);
  const uint64_t wait = std::uniform_int_distribution<uint64_t>(0, bound - 1)(rng);
  return std::chrono::milliseconds(static_cast<int64_t>(wait));
}

}  // namespace meshgate::dp
