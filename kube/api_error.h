// ApiError is what every kube/ call returns when it fails: either the apiserver's `Status`
// (code, reason, message) or a transport failure (code 0). Callers decide with the predicates
// below — the same questions client-go's apierrors package answers (IsNotFound, IsConflict, …).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kube {

struct ApiError {
  int code = 0;        // HTTP status; 0 when no response arrived (connect, TLS, timeout)
  std::string reason;  // Status.reason: NotFound, Conflict, AlreadyExists, Expired, Timeout, …
  std::string message;
  nlohmann::json details;  // Status.details when present
  int retryAfterSeconds = 0;

  // Builds an error from an apiserver response; `body` should be a metav1.Status.
  static ApiError fromResponse(int code, const std::string& body, int retryAfterSeconds = 0);
  static ApiError transport(std::string message);

  bool isNotFound() const { return code == 404 || reason == "NotFound"; }
  bool isConflict() const { return code == 409 && reason == "Conflict"; }
  bool isAlreadyExists() const { return reason == "AlreadyExists"; }
  // The watch or list resourceVersion is too old (etcd compacted it): relist.
  bool isGone() const { return code == 410 || reason == "Expired" || reason == "Gone"; }
  bool isTooManyRequests() const { return code == 429; }
  // The object's namespace no longer exists (404 naming the namespace) or is being deleted (403
  // with cause NamespaceTerminating): nothing written there can succeed until it is recreated.
  bool isNamespaceGone() const;
  bool isTransport() const { return code == 0; }
  // Worth retrying the same request later: nothing was decided by the server.
  bool retryable() const {
    return code == 0 || code == 429 || code == 500 || code == 502 || code == 503 || code == 504;
  }

  // `ApiError{code=409, reason=Conflict}: the object has been modified…`
  std::string toString() const;
};

}  // namespace kube
