// Writes JSON as block-style YAML, the shape `kubectl get -o yaml` prints and people read in a
// diff: mappings as `key: value` lines in key order, sequences as `- item` lines at their key's
// indentation, empty ones as {} and []. A string is written plain only when every YAML reader —
// 1.1 as kubectl's, 1.2 as api/yaml_loader.h — reads it back as that same string (so never
// "true", "yes", "8080" or "a: b"); otherwise it is double-quoted with JSON-style escapes, which
// are valid YAML. Used by `meshgatectl render`; pure.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace meshgate::cli {

// One YAML document's content (no `---` marker), ending with a newline.
std::string toYaml(const nlohmann::json& value);

}  // namespace meshgate::cli
