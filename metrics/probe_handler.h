// ProbeHandler answers the requests ProbeServer reads: GET /metrics for Prometheus, GET /healthz
// for the kubelet's liveness probe and GET /readyz for its readiness probe. Kept apart from the
// socket handling so the routes are testable as plain function calls.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "metrics/registry.h"

namespace metrics {

struct HealthStatus {
  bool ok = true;
  std::string reason;  // why not ok, returned as the 503 body (e.g. "caches not synced")
};

// Called on the ProbeServer's thread for each probe: must be thread-safe and quick — the kubelet
// gives a probe one second by default. An exception counts as not ok.
using HealthCheck = std::function<HealthStatus()>;

// An extra read-only page (the proxy's admin /config_dump, /stats): called on the server's thread.
struct Page {
  unsigned status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};
using PageHandler = std::function<Page()>;

// Which endpoints one server answers: the operator serves /metrics and the probes on separate
// addresses with two servers, the webhook serves all three from one.
struct ProbeRoutes {
  const Registry* registry = nullptr;             // GET /metrics when set; must outlive the server
  bool health = true;                             // GET /healthz and GET /readyz
  HealthCheck liveness = nullptr;                 // /healthz; unset: ok while the process runs
  HealthCheck readiness = nullptr;                // /readyz; unset: always ready
  std::string metricsPath = "/metrics";           // the proxy's admin serves the registry as /stats
  std::map<std::string, PageHandler> pages = {};  // by path, e.g. {"/config_dump", …}
};

/**
 * Maps a request to its response: the routes above for GET (and HEAD, headers only), 405 with an
 * Allow header for other methods on them, 404 for other paths; the query string is ignored. The
 * response keeps the request's HTTP version and keep-alive. Never throws. Thread-safe as long as
 * the callbacks are.
 */
class ProbeHandler {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  explicit ProbeHandler(ProbeRoutes routes) : routes_(std::move(routes)) {}

  Response handle(const Request& request) const;

 private:
  bool serves(std::string_view path) const;
  // The answer to a GET on a path the handler serves.
  Response get(std::string_view path) const;

  const ProbeRoutes routes_;
};

}  // namespace metrics
