// Whether a failed attempt to an upstream is retried, and after how long (Envoy's retry
// semantics). Built once per route from its parsed `retries` (MeshService spec.retries or an
// ApiRoute rule's); immutable, so shared by all workers. The random engine for the backoff
// jitter is the caller's (one per worker).
//
// retryOn values and the outcomes they retry:
//   connect-failure  ConnectFailure (no connection: refused, unreachable, connect timeout, TLS
//                    handshake failure)
//   reset            Reset, Timeout — the upstream did not answer at all (disconnect, reset, no
//                    response within the per-try timeout), as Envoy's `reset`
//   5xx              any response 500–599 and every failure without a response (ConnectFailure,
//                    Reset, Timeout): the proxy would answer those with a 5xx itself
//   gateway-error    responses 502, 503, 504 and the failures without a response, which the
//                    proxy turns into exactly those (503 for no connection or a reset, 504 for a
//                    timeout) — Envoy's "like 5xx, but only 502, 503 and 504"
//   retriable-4xx    response 409 (Conflict)
//   cancelled, deadline-exceeded, resource-exhausted, unavailable
//                    a gRPC response whose grpc-status (1, 4, 8, 14) came with its headers
//                    (Trailers-Only: the call failed before any message), as Envoy's retry_on grpc
// No retryOn: connect-failure and reset (the API's default).
// The caller still decides whether the request may be retried at all (not once response bytes
// went downstream, nor when its body was streamed and not kept).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/expected.h"

namespace meshgate::dp {

// How one attempt ended. Response carries a status; the others had none.
enum class AttemptOutcome { ConnectFailure, Reset, Timeout, Response };

// `retries` of the API, parsed; the defaults are the API's.
struct RetryConfig {
  // Retries after the first attempt (the API's retries.attempts: "1 means one retry"), so a
  // request is tried at most retries + 1 times.
  uint32_t retries = 1;
  std::vector<std::string> retryOn{};  // empty: connect-failure, reset
  std::chrono::milliseconds backoffBase{25};
  std::chrono::milliseconds backoffMax{250};
};

class RetryPolicy {
 public:
  // Fails, naming the value, on a retryOn value it does not know (the API validator rejects
  // those, so it means the operator is newer than the proxy).
  static Expected<RetryPolicy, std::string> create(const RetryConfig& config);

  // Whether to retry after attempt number `attemptsSoFar` (1 after the first) ended with
  // `outcome`; `status` is the response's status and `grpcStatus` its headers' grpc-status, if
  // any (both ignored unless outcome is Response).
  bool shouldRetry(AttemptOutcome outcome, unsigned status, unsigned attemptsSoFar,
                   std::optional<unsigned> grpcStatus = std::nullopt) const;

  // Wait before retry number `retryNumber` (1 for the first retry; 0 counts as 1): full jitter
  // as Envoy, uniform in [0, min((2^n − 1) × base, max)) in whole milliseconds — 0–24 ms, 0–74 ms,
  // 0–174 ms, then 0–249 ms with the defaults. 0 when that bound is 0.
  std::chrono::milliseconds backoff(unsigned retryNumber, std::mt19937_64& rng) const;

  unsigned maxAttempts() const { return retries_ + 1; }

 private:
  enum Condition : unsigned {
    kConnectFailure = 1u << 0,
    kReset = 1u << 1,
    k5xx = 1u << 2,
    kGatewayError = 1u << 3,
    kRetriable4xx = 1u << 4,
    kGrpcCancelled = 1u << 5,
    kGrpcDeadlineExceeded = 1u << 6,
    kGrpcResourceExhausted = 1u << 7,
    kGrpcUnavailable = 1u << 8,
  };

  RetryPolicy(unsigned retries, unsigned conditions, std::chrono::milliseconds base,
              std::chrono::milliseconds max)
      : retries_(retries), conditions_(conditions), base_(base), max_(max) {}

  unsigned retries_;
  unsigned conditions_;  // Condition bits
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
};

}  // namespace meshgate::dp
