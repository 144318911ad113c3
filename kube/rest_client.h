// RestClient is the typed-agnostic Kubernetes API client (objects are nlohmann::json, like
// client-go's dynamic client): CRUD, pagination, patches, server-side apply, status and watch
// streams for any GroupVersionResource. It applies the client-side QPS limit, retries what is
// safe to retry (429/503 after Retry-After, connection failures of idempotent requests) and
// counts requests by verb so a controller can prove it writes nothing at steady state.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/clock.h"
#include "kube/group_version_resource.h"
#include "kube/rest_config.h"
#include "kube/result.h"
#include "kube/transport.h"

namespace kube {

class TokenBucket;

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::string resourceVersion;
  std::string resourceVersionMatch;
  int64_t limit = 0;
  std::string continueToken;
  // Watch only.
  bool allowWatchBookmarks = false;
  int timeoutSeconds = 0;
};

struct DeleteOptions {
  std::string propagationPolicy;  // Foreground | Background | Orphan
  std::optional<std::string> preconditionUid;
  std::optional<std::string> preconditionResourceVersion;
  std::optional<int64_t> gracePeriodSeconds;
};

enum class PatchType { Merge, StrategicMerge, Json, Apply };

struct PatchOptions {
  std::string fieldManager;
  bool force = false;       // apply only: take ownership of conflicting fields
  std::string subresource;  // e.g. "status"
};

struct RestClientOptions {
  double qps = 50;  // <= 0: no client-side limit
  int burst = 100;
  int maxRetries = 5;
  std::chrono::milliseconds maxRetryWait{std::chrono::seconds(10)};
  // The time the QPS limit is measured in, and what the client waits on (QPS, Retry-After,
  // backoff) unless `sleep` is set. Must outlive the client. Required, except with qps <= 0 and
  // a `sleep`.
  Clock* clock = nullptr;
  // How the client waits instead of clock->sleepFor; tests substitute a recorder.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class RestClient {
 public:
  // Throws std::invalid_argument when `options` lacks the clock it needs.
  RestClient(TransportSharedPtr transport, RestClientOptions options);
  ~RestClient();
  // A client over a BeastTransport for `config` (QPS/burst taken from it) that measures and
  // waits on `clock`, which must outlive it.
  static Result<std::unique_ptr<RestClient>> create(const RestConfig& config, Clock& clock);

  Result<nlohmann::json> get(const GroupVersionResource& gvr, const std::string& ns,
                             const std::string& name, const std::string& subresource = "");
  // One page; follow `metadata.continue` yourself, or use listAll.
  Result<nlohmann::json> list(const GroupVersionResource& gvr, const std::string& ns,
                              const ListOptions& options = {});
  // Every page (`limit` is the page size, default 500), items concatenated into one List whose
  // metadata.resourceVersion is the snapshot the pages were served from.
  Result<nlohmann::json> listAll(const GroupVersionResource& gvr, const std::string& ns,
                                 ListOptions options = {});
  Result<nlohmann::json> create(const GroupVersionResource& gvr, const std::string& ns,
                                const nlohmann::json& object);
  // PUT with the object's metadata.resourceVersion: 409 Conflict when it is stale.
  Result<nlohmann::json> update(const GroupVersionResource& gvr, const nlohmann::json& object,
                                const std::string& subresource = "");
  Status remove(const GroupVersionResource& gvr, const std::string& ns, const std::string& name,
                const DeleteOptions& options = {});
  Result<nlohmann::json> patch(const GroupVersionResource& gvr, const std::string& ns,
                               const std::string& name, PatchType type, const std::string& body,
                               const PatchOptions& options = {});
  // Server-side apply of `object` (apiVersion, kind, metadata.name[, namespace] required).
  Result<nlohmann::json> apply(const GroupVersionResource& gvr, const nlohmann::json& object,
                               const std::string& fieldManager, bool force = true,
                               const std::string& subresource = "");
  // Opens a watch stream (?watch=1); the Watcher decodes it.
  Result<ResponseStreamPtr> watchStream(const GroupVersionResource& gvr, const std::string& ns,
                                        const ListOptions& options);

  // Requests sent, by HTTP verb (PATCH counts each apply), for metrics and steady-state checks.
  std::map<std::string, uint64_t> requestCounts() const;

 private:
  Result<HttpResponse> send(HttpRequest request, bool idempotent);
  void recordRequest(const std::string& verb);
  void waitForToken();

  TransportSharedPtr transport_;
  RestClientOptions options_;
  std::unique_ptr<TokenBucket> limiter_;
  mutable std::mutex countsMutex_;
  std::map<std::string, uint64_t> counts_;
};

using RestClientPtr = std::unique_ptr<RestClient>;
using RestClientSharedPtr = std::shared_ptr<RestClient>;

// Percent-encodes a query parameter value.
std::string queryEscape(const std::string& value);

}  // namespace kube
