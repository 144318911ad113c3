// ApiError is what every kube/ call returns when it fails: either the apiserver's `Status`
// (code, reason, message) or a failure on this side of the wire — cancelled, timed out, a network
// or TLS failure, an unusable config, an undecodable answer — told apart by `kind`. Callers decide
// with the predicates below, the questions client-go's apierrors package answers (IsNotFound,
// IsConflict, …) plus the ones its callers ask of net errors (timeout? cancelled?).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kube {

// Where a failure came from. Only ApiStatus errors carry a Status reason and an HTTP code.
enum class FailureKind {
  ApiStatus,        // the apiserver answered with an error Status (or a watch ERROR event)
  Cancelled,        // cancel()/stop() from another thread ended the call
  Timeout,          // no response, or no watch data, within the client-side deadline
  Network,          // resolve, connect, TLS handshake, write or read failed
  InvalidConfig,    // the kubeconfig or RestConfig cannot work (bad URL, CA, key, …)
  InvalidResponse,  // an answer that does not decode (a non-JSON body, a malformed watch event)
};

const char* toString(FailureKind kind);

struct ApiError {
  FailureKind kind = FailureKind::ApiStatus;
  int code = 0;        // HTTP status; 0 when no Status arrived (every kind but ApiStatus)
  std::string reason;  // Status.reason: NotFound, Conflict, AlreadyExists, Expired, Timeout, …;
                       // empty for the other kinds, which `kind` names
  std::string message;
  nlohmann::json details;  // Status.details when present
  int retryAfterSeconds = 0;

  // Builds an error from an apiserver response; `body` should be a metav1.Status.
  static ApiError fromResponse(int code, const std::string& body, int retryAfterSeconds = 0);
  // Failures on this side of the wire, one factory per kind.
  static ApiError cancelled();
  static ApiError timeout(std::string message);
  static ApiError network(std::string message);
  static ApiError invalidConfig(std::string message);
  static ApiError invalidResponse(std::string message);

  bool isNotFound() const { return code == 404 || reason == "NotFound"; }
  bool isConflict() const { return code == 409 && reason == "Conflict"; }
  bool isAlreadyExists() const { return reason == "AlreadyExists"; }
  // The watch or list resourceVersion is too old (etcd compacted it): relist.
  bool isGone() const { return code == 410 || reason == "Expired" || reason == "Gone"; }
  bool isTooManyRequests() const { return code == 429; }
  // The object's namespace no longer exists (404 naming the namespace) or is being deleted (403
  // with cause NamespaceTerminating): nothing written there can succeed until it is recreated.
  bool isNamespaceGone() const;

  // The caller's own cancel()/stop(): not a failure worth a warning or a retry.
  bool isCancelled() const { return kind == FailureKind::Cancelled; }
  // The client-side deadline passed (RestConfig::timeout, a watch's idle timeout); the request
  // may have reached the server. Not the apiserver's own "Timeout" Status (504, its request took
  // too long): that one is an ApiStatus error with code 504 and reason "Timeout".
  bool isTimeout() const { return kind == FailureKind::Timeout; }
  // Resolve, connect, TLS or socket failure; connect and handshake timeouts count here too, since
  // nothing was sent.
  bool isNetwork() const { return kind == FailureKind::Network; }
  // No Status from the apiserver: any kind but ApiStatus.
  bool isTransport() const { return kind != FailureKind::ApiStatus; }
  // Worth retrying the same request later: a network failure or timeout, or a Status saying the
  // server could not decide now (429, 500, 502, 503, 504). Not a cancel, a bad config or an
  // undecodable answer: the same request fails the same way.
  bool retryable() const {
    if (kind == FailureKind::Network || kind == FailureKind::Timeout) return true;
    return kind == FailureKind::ApiStatus &&
           (code == 429 || code == 500 || code == 502 || code == 503 || code == 504);
  }

  // `ApiError{code=409, reason=Conflict}: the object has been modified…` for a Status,
  // `ApiError{Timeout}: GET /api/v1/pods: timed out after 30000ms` for the other kinds.
  std::string toString() const;
};

}  // namespace kube
