// Decoding of apiserver `Status` bodies into ApiError, and the failures of this side of the wire.
#include "kube/api_error.h"

namespace kube {

namespace {

ApiError localFailure(FailureKind kind, std::string message) {
  ApiError err;
  err.kind = kind;
  err.message = std::move(message);
  return err;
}

std::string reasonForCode(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace

ApiError ApiError::fromResponse(int code, const std::string& body, int retryAfterSeconds) {
  ApiError err;
  err.kind = FailureKind::ApiStatus;
  err.code = code;
  err.retryAfterSeconds = retryAfterSeconds;
  auto status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status.is_object() && status.value("kind", "") == "Status") {
    err.reason = status.value("reason", "");
    err.message = status.value("message", "");
    if (status.contains("details")) err.details = status["details"];
    if (status.contains("code") && status["code"].is_number_integer()) {
      err.code = status["code"].get<int>();
    }
  } else {
    // Not a Status (e.g. a proxy's HTML page): keep a bounded excerpt for the message.
    err.message = body.substr(0, 512);
  }
  if (err.reason.empty()) err.reason = reasonForCode(err.code);
  return err;
}

bool ApiError::isNamespaceGone() const {
  if (!details.is_object()) return false;
  if (code == 404) return details.value("kind", "") == "namespaces";
  if (code != 403) return false;
  const auto causes = details.find("causes");
  if (causes == details.end() || !causes->is_array()) return false;
  for (const auto& cause : *causes) {
    if (cause.is_object() && cause.value("reason", "") == "NamespaceTerminating") return true;
  }
  return false;
}

ApiError ApiError::cancelled() {
  return localFailure(FailureKind::Cancelled, "request cancelled");
}

ApiError ApiError::timeout(std::string message) {
  return localFailure(FailureKind::Timeout, std::move(message));
}

ApiError ApiError::network(std::string message) {
  return localFailure(FailureKind::Network, std::move(message));
}

ApiError ApiError::invalidConfig(std::string message) {
  return localFailure(FailureKind::InvalidConfig, std::move(message));
}

ApiError ApiError::invalidResponse(std::string message) {
  return localFailure(FailureKind::InvalidResponse, std::move(message));
}

const char* toString(FailureKind kind) {
  switch (kind) {
    case FailureKind::ApiStatus:
      return "ApiStatus";
    case FailureKind::Cancelled:
      return "Cancelled";
    case FailureKind::Timeout:
      return "Timeout";
    case FailureKind::Network:
      return "Network";
    case FailureKind::InvalidConfig:
      return "InvalidConfig";
    case FailureKind::InvalidResponse:
      return "InvalidResponse";
  }
  return "Unknown";
}

std::string ApiError::toString() const {
  std::string out = kind == FailureKind::ApiStatus
                        ? "ApiError{code=" + std::to_string(code) + ", reason=" + reason + "}"
                        : "ApiError{" + std::string(kube::toString(kind)) + "}";
  if (!message.empty()) out += ": " + message;
  return out;
}

}  // namespace kube
