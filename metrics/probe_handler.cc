// Routing of /metrics, /healthz and /readyz.
#include "metrics/probe_handler.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include "metrics/text_format.h"

namespace metrics {
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kPlainText = "text/plain; charset=utf-8";

ProbeHandler::Response textResponse(http::status status, std::string body,
                                    std::string_view contentType = kPlainText) {
  ProbeHandler::Response response{status, 11};
  response.set(http::field::content_type, contentType);
  // Probe answers change from one second to the next; an intermediary must not replay them.
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  return response;
}

// A probe answer: 200 `ok`, or 503 with the check's reason.
ProbeHandler::Response checkResponse(const HealthCheck& check) {
  HealthStatus status;
  if (check) {
    try {
      status = check();
    } catch (const std::exception& e) {
      status = {false, std::string("check failed: ") + e.what()};
    } catch (...) {
      status = {false, "check failed"};
    }
  }
  if (status.ok) return textResponse(http::status::ok, "ok");
  return textResponse(http::status::service_unavailable,
                      status.reason.empty() ? "not ok" : status.reason);
}

}  // namespace

bool ProbeHandler::serves(std::string_view path) const {
  if (path == routes_.metricsPath) return routes_.registry != nullptr;
  if (routes_.pages.contains(std::string(path))) return true;
  if (path == "/healthz" || path == "/readyz") return routes_.health;
  return false;
}

ProbeHandler::Response ProbeHandler::get(std::string_view path) const {
  if (const auto page = routes_.pages.find(std::string(path)); page != routes_.pages.end()) {
    try {
      Page answer = page->second();
      return textResponse(static_cast<http::status>(answer.status), std::move(answer.body),
                          answer.contentType);
    } catch (const std::exception& e) {
      return textResponse(http::status::internal_server_error,
                          std::string("page failed: ") + e.what());
    }
  }
  if (path == routes_.metricsPath) {
    try {
      return textResponse(http::status::ok, renderTextFormat(routes_.registry->collect()),
                          kTextFormatContentType);
    } catch (const std::exception& e) {
      return textResponse(http::status::internal_server_error,
                          std::string("collecting metrics failed: ") + e.what());
    }
  }
  return checkResponse(path == "/healthz" ? routes_.liveness : routes_.readiness);
}

ProbeHandler::Response ProbeHandler::handle(const Request& request) const {
  std::string_view path = request.target();
  path = path.substr(0, path.find('?'));

  const http::verb method = request.method();
  Response response;
  if (!serves(path)) {
    response = textResponse(http::status::not_found, "not found");
  } else if (method != http::verb::get && method != http::verb::head) {
    response = textResponse(http::status::method_not_allowed, "method not allowed");
    response.set(http::field::allow, "GET, HEAD");
  } else {
    response = get(path);
  }
  response.version(request.version());
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  // A HEAD answer carries the GET answer's headers, Content-Length included, and no body.
  if (method == http::verb::head) response.body().clear();
  return response;
}

}  // namespace metrics
