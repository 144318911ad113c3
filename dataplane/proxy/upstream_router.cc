// Attempts, retries and the outcome of a routed request.
#include "dataplane/proxy/upstream_router.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/assert.h"
#include "dataplane/proxy/grpc_protocol.h"

namespace meshgate::dp {

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

using Steady = std::chrono::steady_clock;

// The reply for a request body that failed on the client's side while it streamed.
LocalReply bodyFailureReply(BodyOutcome outcome) {
  switch (outcome) {
    case BodyOutcome::Invalid:
      return makeLocalReply(400, "invalid chunked body\n", {}, true);
    case BodyOutcome::TooLarge:
      return makeLocalReply(413, "request body too large\n", {}, true);
    case BodyOutcome::ClientTimeout:
      return makeLocalReply(408, "request body timeout\n", {}, true);
    case BodyOutcome::ClientClosed:
    case BodyOutcome::Done:
    case BodyOutcome::UpstreamFailed:
      break;
  }
  return makeLocalReply(400, "request body ended early\n", {}, true);
}

}  // namespace

asio::awaitable<RouteResult> routeUpstream(const AttemptContext& context, WorkerView& view,
                                           const RouteRequest& request, ReadBuffer& buffer,
                                           http::ResponseHead& response) {
  const CompiledRule& rule = request.rule;
  const BackendRef& backend = rule.backends[request.backend];
  const Cluster& cluster = view.snapshot().clusters()[backend.cluster];
  const RetryPolicy& retry = rule.retries ? *rule.retries : *cluster.retries;
  RouteResult result;
  std::optional<size_t> lastEndpoint;
  std::optional<CircuitBreaker::Slot> retrySlot;
  unsigned attempts = 0;
  for (;;) {
    const auto endpointIndex = view.pickEndpoint(rule, request.backend, request.hash, lastEndpoint);
    if (!endpointIndex) {
      result.status = 503;
      result.reply = makeLocalReply(503, "no endpoint\n", {}, true);
      co_return result;
    }
    const UpstreamEndpoint& endpoint = cluster.endpoints[*endpointIndex];
    result.endpoint = &endpoint;
    EndpointInFlight inFlight(view, backend.cluster, *endpointIndex);
    attempts++;
    const SteadyTime attemptDeadline =
        request.perTryTimeout
            ? std::min(request.requestDeadline, Steady::now() + *request.perTryTimeout)
            : request.requestDeadline;
    const AttemptRequest attemptRequest{.cluster = cluster,
                                        .endpoint = endpoint,
                                        .head = request.head,
                                        .method = request.method,
                                        .upgrade = request.upgrade,
                                        .body = request.body,
                                        .deadline = attemptDeadline};
    AttemptResult attempt = co_await runAttempt(context, attemptRequest, buffer, response);
    // Retries need the whole body again: a streamed one was consumed by this attempt.
    const bool mayRetry = request.body.complete() && attempts < retry.maxAttempts();
    const bool keepClient = request.body.complete();
    AttemptOutcome outcome = AttemptOutcome::Response;
    unsigned status = 0;
    switch (attempt.error) {
      case AttemptError::None:
        status = response.status;
        if (cluster.outliers) {
          if (status >= 500)
            cluster.outliers->reportError(*endpointIndex);
          else
            cluster.outliers->reportSuccess(*endpointIndex);
        }
        if (!mayRetry || !retry.shouldRetry(AttemptOutcome::Response, status, attempts,
                                            grpcStatusIn(response.headers))) {
          result.status = status;
          result.response = std::move(attempt);
          result.inFlight.emplace(std::move(inFlight));
          co_return result;
        }
        break;  // retried: the connection closes with its unread body
      case AttemptError::Overflow:
        result.status = 503;
        result.reply =
            makeLocalReply(503, "upstream overflow: connections\n", kOverflowHeader, !keepClient);
        co_return result;
      case AttemptError::InvalidResponse:
        if (cluster.outliers) cluster.outliers->reportError(*endpointIndex);
        result.status = 502;
        result.reply =
            makeLocalReply(502, "invalid upstream response: " + std::string(attempt.invalid) + "\n",
                           {}, !keepClient);
        co_return result;
      case AttemptError::RequestBody:
        // The client's side failed: nothing to hold against the endpoint.
        result.reply = bodyFailureReply(attempt.body);
        result.status = result.reply->status;
        co_return result;
      case AttemptError::ConnectFailure:
      case AttemptError::Timeout:
      case AttemptError::Reset:
        if (cluster.outliers) cluster.outliers->reportError(*endpointIndex);
        // Connect failures were counted when connecting.
        if (attempt.error == AttemptError::Timeout) cluster.timeoutErrors->inc();
        if (attempt.error == AttemptError::Reset) cluster.resetErrors->inc();
        outcome = attempt.error == AttemptError::ConnectFailure ? AttemptOutcome::ConnectFailure
                  : attempt.error == AttemptError::Timeout      ? AttemptOutcome::Timeout
                                                                : AttemptOutcome::Reset;
        status = attempt.error == AttemptError::ConnectFailure ? 503
                 : attempt.error == AttemptError::Timeout      ? 504
                                                               : 502;
        if (!mayRetry || !retry.shouldRetry(outcome, 0, attempts)) {
          result.status = status;
          result.reply = makeLocalReply(
              status,
              attempt.error == AttemptError::ConnectFailure ? "upstream connect failure\n"
              : attempt.error == AttemptError::Timeout      ? "upstream timeout\n"
                                                            : "upstream connection reset\n",
              {}, !keepClient);
          co_return result;
        }
        break;
    }
    MESHGATE_ASSERT(request.body.complete(), "only a buffered request is retried");
    retrySlot.reset();
    retrySlot = cluster.breaker->tryAcquire(CircuitBreaker::Resource::Retries);
    if (!retrySlot) {
      cluster.overflow[static_cast<size_t>(CircuitBreaker::Resource::Retries)]->inc();
      result.status = status;
      result.reply =
          makeLocalReply(status, "upstream failed; retry budget exhausted\n", kOverflowHeader);
      co_return result;
    }
    cluster.retried->inc();
    asio::steady_timer backoff(co_await asio::this_coro::executor);
    backoff.expires_after(retry.backoff(attempts, view.random()));
    co_await backoff.async_wait(kNoThrow);
    lastEndpoint = *endpointIndex;
  }
}

}  // namespace meshgate::dp
