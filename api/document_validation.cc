// Kind dispatch for manifest documents; see api/document_validation.h.
#include "api/document_validation.h"

#include <exception>

#include "api/api_route.h"
#include "api/api_route_codec.h"
#include "api/api_route_validation.h"
#include "api/mesh_service.h"
#include "api/mesh_service_codec.h"
#include "api/mesh_service_validation.h"

namespace meshgate::api {
namespace {

std::string stringField(const nlohmann::json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

template <typename T>
ErrorList decodeAndValidate(const DecodeResult<T>& decoded, ErrorList (*validate)(const T&)) {
  if (!decoded.ok()) return decoded.errors;
  return validate(*decoded.object);
}

void fillReport(const nlohmann::json& doc, DocumentReport& report) {
  if (!doc.is_object()) {
    report.errors.push_back(FieldError::invalid(FieldPath(), doc, "expected an object"));
    return;
  }
  report.apiVersion = stringField(doc, "apiVersion");
  report.kind = stringField(doc, "kind");
  if (const auto meta = doc.find("metadata"); meta != doc.end() && meta->is_object()) {
    report.name = stringField(*meta, "name");
  }
  if (report.apiVersion != kGroupVersion) return;
  if (report.kind == MeshService::kKind) {
    report.recognized = true;
    report.errors = decodeAndValidate(decodeMeshService(doc), &validateMeshService);
  } else if (report.kind == ApiRoute::kKind) {
    report.recognized = true;
    report.errors = decodeAndValidate(decodeApiRoute(doc), &validateApiRoute);
  }
}

}  // namespace

DocumentReport validateDocument(const nlohmann::json& doc) {
  DocumentReport report;
  try {
    fillReport(doc, report);
  } catch (const std::exception& e) {
    report.errors = {FieldError::internal(FieldPath(), e.what())};
  }
  return report;
}

}  // namespace meshgate::api
