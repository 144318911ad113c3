// AdmissionReview decoding and encoding; see webhook/core/admission_review.h.
#include "webhook/core/admission_review.h"

#include "base/base64.h"

namespace meshgate::webhook {

namespace {

// The string at `key` of `object`, or "" when absent; `error` is set when present but not a
// string.
std::string stringField(const nlohmann::json& object, const char* key, const std::string& path,
                        std::string& error) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) {
    if (error.empty()) error = path + "." + key + ": must be a string";
    return {};
  }
  return it->get<std::string>();
}

}  // namespace

meshgate::Expected<AdmissionRequest, std::string> decodeAdmissionReview(
    const nlohmann::json& review) {
  if (!review.is_object()) return std::string("the body is not a JSON object");
  const std::string apiVersion = review.value("apiVersion", nlohmann::json()).is_string()
                                     ? review["apiVersion"].get<std::string>()
                                     : std::string();
  if (apiVersion != kAdmissionApiVersion) {
    return "apiVersion: Unsupported value: \"" + apiVersion + "\": supported values: \"" +
           kAdmissionApiVersion + "\"";
  }
  if (review.value("kind", nlohmann::json()) != "AdmissionReview")
    return std::string("kind: Unsupported value: supported values: \"AdmissionReview\"");
  auto requestIt = review.find("request");
  if (requestIt == review.end() || !requestIt->is_object())
    return std::string("request: Required value: an AdmissionReview request object");
  const nlohmann::json& r = *requestIt;

  std::string error;
  AdmissionRequest out;
  out.uid = stringField(r, "uid", "request", error);
  out.operation = stringField(r, "operation", "request", error);
  out.name = stringField(r, "name", "request", error);
  out.namespace_ = stringField(r, "namespace", "request", error);
  out.subResource = stringField(r, "subResource", "request", error);
  if (auto kind = r.find("kind"); kind != r.end() && kind->is_object()) {
    out.kind.group = stringField(*kind, "group", "request.kind", error);
    out.kind.version = stringField(*kind, "version", "request.kind", error);
    out.kind.kind = stringField(*kind, "kind", "request.kind", error);
  }
  if (auto resource = r.find("resource"); resource != r.end() && resource->is_object())
    out.resource = stringField(*resource, "resource", "request.resource", error);
  if (auto user = r.find("userInfo"); user != r.end() && user->is_object())
    out.userName = stringField(*user, "username", "request.userInfo", error);
  if (auto dryRun = r.find("dryRun"); dryRun != r.end() && dryRun->is_boolean())
    out.dryRun = dryRun->get<bool>();
  if (auto object = r.find("object"); object != r.end()) out.object = *object;
  if (auto old = r.find("oldObject"); old != r.end()) out.oldObject = *old;
  if (!error.empty()) return error;

  if (out.uid.empty()) return std::string("request.uid: Required value");
  static constexpr const char* kOperations[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
  bool known = false;
  for (const char* op : kOperations)
    known = known || out.operation == op;
  if (!known) {
    return "request.operation: Unsupported value: \"" + out.operation +
           "\": supported values: \"CREATE\", \"UPDATE\", \"DELETE\", \"CONNECT\"";
  }
  return out;
}

nlohmann::json encodeAdmissionResponse(const std::string& uid, const AdmissionDecision& decision) {
  nlohmann::json response = {{"uid", uid}, {"allowed", decision.allowed}};
  if (!decision.allowed) {
    response["status"] = {{"code", decision.code},
                          {"reason", decision.reason},
                          {"message", decision.message},
                          {"status", "Failure"}};
  } else if (decision.patch && decision.patch->is_array() && !decision.patch->empty()) {
    response["patchType"] = "JSONPatch";
    response["patch"] = meshgate::base64Encode(decision.patch->dump());
  }
  if (!decision.warnings.empty()) response["warnings"] = decision.warnings;
  return {{"apiVersion", kAdmissionApiVersion},
          {"kind", "AdmissionReview"},
          {"response", std::move(response)}};
}

}  // namespace meshgate::webhook
