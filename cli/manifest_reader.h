// Reads the manifests named on a command line the way `kubectl apply -R -f` finds them: files,
// directories searched recursively for *.yaml, *.yml and *.json (in path order), and "-" for
// standard input; every document of a multi-document stream, with a `kind: List` flattened into
// its items. Used by `meshgatectl render`; reads the file system and `in` only.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshgate::cli {

inline constexpr const char* kStdinSource = "<stdin>";

struct ManifestDocument {
  std::string source;  // the file's path, or kStdinSource
  std::size_t index;   // 0-based position among its source's documents (List items counted)
  nlohmann::json object;
};

struct ManifestReadResult {
  std::vector<ManifestDocument> documents;
  // "<path>: <reason>" for each path that is missing or holds no manifest file, and for each
  // file that cannot be read or parsed; documents of the other files are still returned.
  std::vector<std::string> errors;
};

ManifestReadResult readManifests(const std::vector<std::string>& paths, std::istream& in);

}  // namespace meshgate::cli
