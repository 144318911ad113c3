// Path → admission endpoint, AdmissionReview in and out; see webhook/admission_router.h.
#include "webhook/admission_router.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace meshgate::webhook {

namespace http = boost::beast::http;

namespace {

HttpResponse textResponse(const HttpRequest& request, http::status status, std::string body) {
  HttpResponse response{status, request.version()};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::move(body) + "\n";
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

// "application/json" with or without parameters (charset=utf-8); absent is tolerated.
bool isJson(const HttpRequest& request) {
  auto it = request.find(http::field::content_type);
  if (it == request.end()) return true;
  const auto value = it->value();
  const auto type = value.substr(0, value.find(';'));
  return type == "application/json";
}

}  // namespace

AdmissionRouter::AdmissionRouter(metrics::Registry& registry)
    : requests_(registry.counter(
          "meshgate_webhook_admission_requests_total",
          "AdmissionReviews answered, by webhook, operation and result "
          "(allowed, patched, denied, error = malformed or failed inside the webhook)",
          {"webhook", "operation", "result"})),
      duration_(registry.histogram(
          "meshgate_webhook_admission_duration_seconds",
          "Time from a whole AdmissionReview request read to its response built, by webhook",
          {"webhook"}, metrics::Histogram::exponentialBuckets(0.00025, 2, 14))) {}

void AdmissionRouter::add(const std::string& path, AdmissionEndpoint endpoint) {
  endpoints_[path] = std::move(endpoint);
}

HttpResponse AdmissionRouter::handle(const HttpRequest& request) const {
  const std::string_view target = request.target();
  const std::string path(target.substr(0, target.find('?')));
  auto it = endpoints_.find(path);
  if (it == endpoints_.end())
    return textResponse(request, http::status::not_found, "no admission endpoint at " + path);
  if (request.method() != http::verb::post) {
    auto response = textResponse(request, http::status::method_not_allowed,
                                 "admission endpoints take POST with an AdmissionReview");
    response.set(http::field::allow, "POST");
    return response;
  }
  if (!isJson(request)) {
    return textResponse(request, http::status::unsupported_media_type,
                        "an AdmissionReview must be sent as application/json");
  }
  return review(it->second, request);
}

HttpResponse AdmissionRouter::review(const AdmissionEndpoint& endpoint,
                                     const HttpRequest& request) const {
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto body = nlohmann::json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    record(endpoint, "", "error", seconds());
    return textResponse(request, http::status::bad_request,
                        "malformed AdmissionReview: the body is not valid JSON");
  }
  auto admission = decodeAdmissionReview(body);
  if (!admission) {
    record(endpoint, "", "error", seconds());
    return textResponse(request, http::status::bad_request,
                        "malformed AdmissionReview: " + admission.error());
  }

  const AdmissionDecision decision = decide(endpoint, *admission);
  const std::string result = !decision.allowed ? (decision.code >= 500 ? "error" : "denied")
                             : decision.patch && !decision.patch->empty() ? "patched"
                                                                          : "allowed";
  if (!decision.allowed) {
    spdlog::info("{} {} {} {}/{} denied: {}", endpoint.name, admission->operation,
                 admission->kind.kind, admission->namespace_, admission->name, decision.message);
  } else {
    spdlog::debug("{} {} {} {}/{} {}", endpoint.name, admission->operation, admission->kind.kind,
                  admission->namespace_, admission->name, result);
  }

  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, "application/json");
  response.body() = encodeAdmissionResponse(admission->uid, decision).dump();
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  record(endpoint, admission->operation, result, seconds());
  return response;
}

AdmissionDecision AdmissionRouter::decide(const AdmissionEndpoint& endpoint,
                                          const AdmissionRequest& request) const {
  if (request.kind.kind != endpoint.kind) {
    return AdmissionDecision::deny("meshgate webhook " + endpoint.name + " judges " +
                                       endpoint.kind + " objects, not " + request.kind.kind +
                                       ": check the WebhookConfiguration's rules",
                                   400, "BadRequest");
  }
  try {
    return endpoint.decide(request);
  } catch (const std::exception& e) {
    spdlog::error("{}: internal error on {}/{}: {}", endpoint.name, request.namespace_,
                  request.name, e.what());
    return AdmissionDecision::deny(
        std::string("internal error in the meshgate webhook: ") + e.what(), 500, "InternalError");
  } catch (...) {
    spdlog::error("{}: internal error on {}/{}", endpoint.name, request.namespace_, request.name);
    return AdmissionDecision::deny("internal error in the meshgate webhook", 500, "InternalError");
  }
}

void AdmissionRouter::record(const AdmissionEndpoint& endpoint, const std::string& operation,
                             const std::string& result, double seconds) const {
  requests_.with({endpoint.name, operation, result}).inc();
  duration_.with({endpoint.name}).observe(seconds);
}

}  // namespace meshgate::webhook
