// RestClient: request construction, retries and accounting over a Transport.
#include "kube/rest_client.h"

#include <random>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "kube/beast_transport.h"
#include "kube/token_bucket.h"

namespace kube {

namespace {

void appendQuery(std::string& target, const std::string& name, const std::string& value) {
  if (value.empty()) return;
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += name + "=" + queryEscape(value);
}

std::string listTarget(const GroupVersionResource& gvr, const std::string& ns,
                       const ListOptions& options, bool watch) {
  std::string target = gvr.path(ns);
  if (watch) appendQuery(target, "watch", "1");
  appendQuery(target, "labelSelector", options.labelSelector);
  appendQuery(target, "fieldSelector", options.fieldSelector);
  appendQuery(target, "resourceVersion", options.resourceVersion);
  appendQuery(target, "resourceVersionMatch", options.resourceVersionMatch);
  if (options.limit > 0) appendQuery(target, "limit", std::to_string(options.limit));
  appendQuery(target, "continue", options.continueToken);
  if (watch && options.allowWatchBookmarks) appendQuery(target, "allowWatchBookmarks", "true");
  if (options.timeoutSeconds > 0) {
    appendQuery(target, "timeoutSeconds", std::to_string(options.timeoutSeconds));
  }
  return target;
}

Result<nlohmann::json> decodeBody(const HttpResponse& response) {
  auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return ApiError::invalidResponse("response is not JSON (status " +
                                     std::to_string(response.status) + ")");
  }
  return body;
}

std::string objectNamespace(const nlohmann::json& object) {
  if (!object.contains("metadata")) return "";
  return object["metadata"].value("namespace", "");
}

std::string objectName(const nlohmann::json& object) {
  if (!object.contains("metadata")) return "";
  return object["metadata"].value("name", "");
}

const char* contentTypeFor(PatchType type) {
  switch (type) {
    case PatchType::Merge:
      return "application/merge-patch+json";
    case PatchType::StrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::Json:
      return "application/json-patch+json";
    case PatchType::Apply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

}  // namespace

std::string queryEscape(const std::string& value) {
  return boost::urls::encode(value, boost::urls::unreserved_chars);
}

RestClient::RestClient(TransportSharedPtr transport, RestClientOptions options)
    : transport_(std::move(transport)), options_(std::move(options)) {
  Clock* clock = options_.clock;
  if (clock == nullptr && (options_.qps > 0 || !options_.sleep)) {
    throw std::invalid_argument("RestClient: options.clock is required for a QPS limit or waits");
  }
  if (!options_.sleep) {
    options_.sleep = [clock](std::chrono::milliseconds d) { clock->sleepFor(d); };
  }
  if (options_.qps > 0) {
    limiter_ = std::make_unique<TokenBucket>(*clock, options_.qps, std::max(1, options_.burst));
  }
}

RestClient::~RestClient() = default;

Result<std::unique_ptr<RestClient>> RestClient::create(const RestConfig& config, Clock& clock) {
  auto transport = BeastTransport::create(config);
  if (!transport) return transport.error();
  RestClientOptions options;
  options.qps = config.qps;
  options.burst = config.burst;
  options.clock = &clock;
  return std::make_unique<RestClient>(TransportSharedPtr(std::move(transport).value()), options);
}

void RestClient::recordRequest(const std::string& verb) {
  std::lock_guard lock(countsMutex_);
  counts_[verb]++;
}

std::map<std::string, uint64_t> RestClient::requestCounts() const {
  std::lock_guard lock(countsMutex_);
  return counts_;
}

void RestClient::waitForToken() {
  if (!limiter_) return;
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(limiter_->reserve());
  if (delay.count() > 0) options_.sleep(delay);
}

Result<HttpResponse> RestClient::send(HttpRequest request, bool idempotent) {
  thread_local std::minstd_rand jitter{std::random_device{}()};
  std::chrono::milliseconds backoff{100};
  for (int attempt = 0;; attempt++) {
    waitForToken();
    recordRequest(request.method);
    auto response = transport_->roundTrip(request);
    // Like client-go at -v=6: method, path and outcome; never headers or bodies (they carry
    // tokens and Secret data).
    spdlog::debug("{} {} → {}", request.method, request.target,
                  response ? std::to_string(response->status) : response.error().message);
    const bool lastAttempt = attempt >= options_.maxRetries;
    if (!response) {
      const auto& err = response.error();
      // Only a network failure is worth sending again, and only for an idempotent request, since
      // it may have reached the server. A timeout is not: the server may still be working on it.
      if (lastAttempt || !idempotent || !err.isNetwork()) {
        return err;
      }
      const auto wait =
          std::min(backoff + std::chrono::milliseconds(jitter() % (backoff.count() / 2 + 1)),
                   options_.maxRetryWait);
      options_.sleep(wait);
      backoff = std::min(backoff * 2, options_.maxRetryWait);
      continue;
    }
    const int status = response->status;
    if ((status == 429 || status == 503) && !lastAttempt) {
      // The server did not process the request; it says when to come back.
      auto retryAfter = response->header("retry-after");
      std::chrono::milliseconds wait = backoff;
      if (!retryAfter.empty()) {
        try {
          wait = std::chrono::seconds(std::max(0, std::stoi(retryAfter)));
        } catch (...) {
        }
      }
      options_.sleep(std::min(wait, options_.maxRetryWait));
      backoff = std::min(backoff * 2, options_.maxRetryWait);
      continue;
    }
    if (status < 200 || status >= 300) {
      int retryAfterSeconds = 0;
      try {
        if (auto h = response->header("retry-after"); !h.empty()) retryAfterSeconds = std::stoi(h);
      } catch (...) {
      }
      return ApiError::fromResponse(status, response->body, retryAfterSeconds);
    }
    return response;
  }
}

Result<nlohmann::json> RestClient::get(const GroupVersionResource& gvr, const std::string& ns,
                                       const std::string& name, const std::string& subresource) {
  HttpRequest request;
  request.target = gvr.path(ns, name, subresource);
  auto response = send(std::move(request), true);
  if (!response) return response.error();
  return decodeBody(*response);
}

Result<nlohmann::json> RestClient::list(const GroupVersionResource& gvr, const std::string& ns,
                                        const ListOptions& options) {
  HttpRequest request;
  request.target = listTarget(gvr, ns, options, false);
  auto response = send(std::move(request), true);
  if (!response) return response.error();
  return decodeBody(*response);
}

Result<nlohmann::json> RestClient::listAll(const GroupVersionResource& gvr, const std::string& ns,
                                           ListOptions options) {
  if (options.limit <= 0) options.limit = 500;
  nlohmann::json all;
  while (true) {
    auto page = list(gvr, ns, options);
    if (!page) return page.error();
    auto& body = page.value();
    if (all.is_null()) {
      all = nlohmann::json::object();
      all["apiVersion"] = body.value("apiVersion", gvr.apiVersion());
      all["kind"] = body.value("kind", gvr.kind + "List");
      all["metadata"] = {{"resourceVersion", body["metadata"].value("resourceVersion", "")}};
      all["items"] = nlohmann::json::array();
    }
    if (body.contains("items") && body["items"].is_array()) {
      for (auto& item : body["items"])
        all["items"].push_back(std::move(item));
    }
    options.continueToken = body["metadata"].value("continue", "");
    if (options.continueToken.empty()) break;
    // Continuing pages must not pin a resourceVersion: the token carries the snapshot.
    options.resourceVersion.clear();
    options.resourceVersionMatch.clear();
  }
  return all;
}

Result<nlohmann::json> RestClient::create(const GroupVersionResource& gvr, const std::string& ns,
                                          const nlohmann::json& object) {
  HttpRequest request;
  request.method = "POST";
  request.target = gvr.path(ns.empty() ? objectNamespace(object) : ns);
  request.contentType = "application/json";
  request.body = object.dump();
  auto response = send(std::move(request), false);
  if (!response) return response.error();
  return decodeBody(*response);
}

Result<nlohmann::json> RestClient::update(const GroupVersionResource& gvr,
                                          const nlohmann::json& object,
                                          const std::string& subresource) {
  HttpRequest request;
  request.method = "PUT";
  request.target = gvr.path(objectNamespace(object), objectName(object), subresource);
  request.contentType = "application/json";
  request.body = object.dump();
  // Optimistic concurrency makes a repeated PUT safe: a stale one fails with 409.
  auto response = send(std::move(request), true);
  if (!response) return response.error();
  return decodeBody(*response);
}

Status RestClient::remove(const GroupVersionResource& gvr, const std::string& ns,
                          const std::string& name, const DeleteOptions& options) {
  nlohmann::json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!options.propagationPolicy.empty()) body["propagationPolicy"] = options.propagationPolicy;
  if (options.gracePeriodSeconds) body["gracePeriodSeconds"] = *options.gracePeriodSeconds;
  if (options.preconditionUid || options.preconditionResourceVersion) {
    auto& pre = body["preconditions"];
    if (options.preconditionUid) pre["uid"] = *options.preconditionUid;
    if (options.preconditionResourceVersion) {
      pre["resourceVersion"] = *options.preconditionResourceVersion;
    }
  }
  HttpRequest request;
  request.method = "DELETE";
  request.target = gvr.path(ns, name);
  request.contentType = "application/json";
  request.body = body.dump();
  auto response = send(std::move(request), true);
  if (!response) return response.error();
  return Ok{};
}

Result<nlohmann::json> RestClient::patch(const GroupVersionResource& gvr, const std::string& ns,
                                         const std::string& name, PatchType type,
                                         const std::string& body, const PatchOptions& options) {
  HttpRequest request;
  request.method = "PATCH";
  request.target = gvr.path(ns, name, options.subresource);
  appendQuery(request.target, "fieldManager", options.fieldManager);
  if (type == PatchType::Apply && options.force) appendQuery(request.target, "force", "true");
  request.contentType = contentTypeFor(type);
  request.body = body;
  // An apply states the whole intent, so sending it twice is harmless; other patches may not be.
  auto response = send(std::move(request), type == PatchType::Apply);
  if (!response) return response.error();
  return decodeBody(*response);
}

Result<nlohmann::json> RestClient::apply(const GroupVersionResource& gvr,
                                         const nlohmann::json& object,
                                         const std::string& fieldManager, bool force,
                                         const std::string& subresource) {
  PatchOptions options;
  options.fieldManager = fieldManager;
  options.force = force;
  options.subresource = subresource;
  // JSON is valid YAML, which is what application/apply-patch+yaml expects.
  return patch(gvr, objectNamespace(object), objectName(object), PatchType::Apply, object.dump(),
               options);
}

Result<ResponseStreamPtr> RestClient::watchStream(const GroupVersionResource& gvr,
                                                  const std::string& ns,
                                                  const ListOptions& options) {
  HttpRequest request;
  request.target = listTarget(gvr, ns, options, true);
  waitForToken();
  recordRequest("WATCH");
  return transport_->stream(request);
}

}  // namespace kube
