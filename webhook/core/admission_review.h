// AdmissionReview (admission.k8s.io/v1): the request the kube-apiserver sends to the webhook and
// the response it expects back. Decoding is strict about what the webhook relies on (apiVersion,
// kind, request.uid, request.operation) and lenient about the rest, so a newer apiserver adding
// fields keeps working. Pure; used by AdmissionHandler and by the tests and benchmark clients.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"

namespace meshgate::webhook {

inline constexpr const char* kAdmissionApiVersion = "admission.k8s.io/v1";

struct GroupVersionKind {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;
};

struct AdmissionRequest {
  std::string uid;
  GroupVersionKind kind;
  std::string resource;     // e.g. "pods", "apiroutes"
  std::string subResource;  // usually ""
  std::string name;         // may be "" on CREATE when metadata.generateName is used
  std::string namespace_;
  std::string operation;  // CREATE, UPDATE, DELETE or CONNECT
  std::string userName;   // userInfo.username, for logs only
  bool dryRun = false;
  nlohmann::json object;     // null when absent (DELETE)
  nlohmann::json oldObject;  // null when absent (CREATE)
};

// What a handler decides about one request.
struct AdmissionDecision {
  bool allowed = true;
  // When denied: status.message (what kubectl prints after "denied the request: "), status.code
  // (HTTP-like: 403 forbidden by policy, 422 invalid object, 500 internal) and status.reason
  // (Forbidden, Invalid, InternalError).
  std::string message;
  int code = 403;
  std::string reason = "Forbidden";
  // RFC 6902 operations (a JSON array) to apply when allowed; nullopt or an empty array: none.
  std::optional<nlohmann::json> patch;
  // Shown by kubectl as "Warning: …"; allowed with or without a denial.
  std::vector<std::string> warnings;

  static AdmissionDecision allow() { return {}; }
  static AdmissionDecision deny(std::string message, int code = 403,
                                std::string reason = "Forbidden") {
    AdmissionDecision d;
    d.allowed = false;
    d.message = std::move(message);
    d.code = code;
    d.reason = std::move(reason);
    return d;
  }
};

// Decodes a whole AdmissionReview body; the error names what is missing or malformed
// (e.g. "request.uid: Required value").
meshgate::Expected<AdmissionRequest, std::string> decodeAdmissionReview(
    const nlohmann::json& review);

// The AdmissionReview response for `uid`: allowed, status when denied, patch (base64 of the JSON
// array, patchType JSONPatch) when there are operations, warnings when any.
nlohmann::json encodeAdmissionResponse(const std::string& uid, const AdmissionDecision& decision);

}  // namespace meshgate::webhook
