// Checks one manifest document of any kind: a meshgate.io/v1alpha1 MeshService or ApiRoute is
// decoded and validated, anything else is reported as not recognised so the caller can skip it.
// Shared by meshgatectl validate and the tests that check config/samples and api/testdata.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "api/field_error.h"

namespace meshgate::api {

inline constexpr std::string_view kGroupVersion = "meshgate.io/v1alpha1";

struct DocumentReport {
  // As found in the document (empty when absent or not a string).
  std::string apiVersion;
  std::string kind;
  std::string name;
  // A MeshService or ApiRoute of meshgate.io/v1alpha1, which was decoded and validated.
  bool recognized = false;
  // Decode errors if decoding failed, otherwise validation errors. A document that is not a JSON
  // object gets one error and is not recognised.
  ErrorList errors;
};

DocumentReport validateDocument(const nlohmann::json& doc);

}  // namespace meshgate::api
