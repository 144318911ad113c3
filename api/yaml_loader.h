// Loads YAML (or JSON) manifests into nlohmann::json documents, the input the codecs decode. Used
// by meshgatectl and the tests; the webhook and operator receive JSON and never need it. Every
// document of a multi-document stream is returned in order; empty documents are skipped. Scalars
// follow the YAML 1.2 core schema: plain integers become JSON integers, true/false booleans,
// null/~/empty null, quoted scalars always strings. Nothing throws: a syntax error comes back as
// `<source>:<line>:<column>: <problem>`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshgate::api {

struct YamlLoadResult {
  std::vector<nlohmann::json> documents;
  // Empty on success; otherwise the first problem, prefixed by the source and position. No
  // documents are returned when there is an error.
  std::string error;

  bool ok() const { return error.empty(); }
};

// `source` names the input in error messages (a file name, or "<stdin>").
YamlLoadResult loadYaml(std::string_view text, std::string_view source);

// Reads `path` and loads it; a read failure is reported as `<path>: <reason>`.
YamlLoadResult loadYamlFile(const std::string& path);

}  // namespace meshgate::api
