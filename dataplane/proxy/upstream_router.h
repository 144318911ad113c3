// UpstreamRouter: takes a routed request to its backend's cluster, the way Envoy's router filter
// does — endpoint picks (away from the endpoint that just failed), attempts (UpstreamAttempt) with
// the retry policy's conditions, backoff and retry budget, passive outlier reports and error
// counters — and ends with either a response to forward (ResponseForwarder) or the LocalReply the
// client should get. Like an attempt it never writes to the client. Called by DownstreamSession in
// its coroutine, on the worker's thread.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "dataplane/proxy/local_reply.h"
#include "dataplane/proxy/upstream_attempt.h"
#include "dataplane/proxy/worker_view.h"

namespace meshgate::dp {

// Counts a request on an endpoint for least-request balancing while it is in flight.
class EndpointInFlight {
 public:
  EndpointInFlight(WorkerView& view, size_t cluster, size_t endpoint)
      : view_(&view), cluster_(cluster), endpoint_(endpoint) {
    view_->started(cluster_, endpoint_);
  }
  EndpointInFlight(EndpointInFlight&& other) noexcept
      : view_(std::exchange(other.view_, nullptr)),
        cluster_(other.cluster_),
        endpoint_(other.endpoint_) {}
  EndpointInFlight& operator=(EndpointInFlight&&) = delete;
  ~EndpointInFlight() {
    if (view_) view_->finished(cluster_, endpoint_);
  }

 private:
  WorkerView* view_;
  size_t cluster_, endpoint_;
};

struct RouteRequest {
  const CompiledRule& rule;
  size_t backend;  // index into rule.backends
  RequestHash hash;
  std::string_view head;
  std::string_view method;
  bool upgrade = false;  // the request asks to switch protocols (WebSocket)
  RequestBody& body;
  SteadyTime requestDeadline;  // SteadyTime::max() without a request timeout
  std::optional<std::chrono::milliseconds> perTryTimeout;
};

struct RouteResult {
  unsigned status = 0;                         // what the client gets
  std::optional<LocalReply> reply;             // answer locally, or else forward `response`
  AttemptResult response;                      // error None when forwarding
  const UpstreamEndpoint* endpoint = nullptr;  // the endpoint of the last attempt, if any
  std::optional<EndpointInFlight> inFlight;    // held until the response is forwarded
};

boost::asio::awaitable<RouteResult> routeUpstream(const AttemptContext& context, WorkerView& view,
                                                  const RouteRequest& request, ReadBuffer& buffer,
                                                  http::ResponseHead& response);

}  // namespace meshgate::dp
