// Manifest files, directories and stdin → documents; see cli/manifest_reader.h.
#include "cli/manifest_reader.h"

#include <algorithm>
#include <filesystem>
#include <istream>
#include <iterator>
#include <system_error>

#include "api/yaml_loader.h"

namespace meshgate::cli {

namespace {

namespace fs = std::filesystem;

bool isManifestFile(const fs::path& path) {
  const std::string extension = path.extension().string();
  return extension == ".yaml" || extension == ".yml" || extension == ".json";
}

// The manifest files under `dir`, sorted; "" error when there is at least one.
std::vector<std::string> manifestFilesUnder(const std::string& dir, std::string& error) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && isManifestFile(it->path())) files.push_back(it->path().string());
  }
  if (ec) {
    error = dir + ": " + ec.message();
    return {};
  }
  if (files.empty()) error = dir + ": no *.yaml, *.yml or *.json file in this directory";
  std::sort(files.begin(), files.end());
  return files;
}

void addDocument(const std::string& source, nlohmann::json document,
                 std::vector<ManifestDocument>& out, std::size_t& index) {
  const bool isList = document.is_object() && document.value("kind", nlohmann::json()) == "List" &&
                      document.contains("items") && document["items"].is_array();
  if (!isList) {
    out.push_back({source, index++, std::move(document)});
    return;
  }
  for (auto& item : document["items"])
    addDocument(source, std::move(item), out, index);
}

void addLoaded(const std::string& source, api::YamlLoadResult loaded, ManifestReadResult& result) {
  if (!loaded.ok()) {
    result.errors.push_back(loaded.error);
    return;
  }
  std::size_t index = 0;
  for (auto& document : loaded.documents)
    addDocument(source, std::move(document), result.documents, index);
}

}  // namespace

ManifestReadResult readManifests(const std::vector<std::string>& paths, std::istream& in) {
  ManifestReadResult result;
  for (const auto& path : paths) {
    if (path == "-") {
      const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      addLoaded(kStdinSource, api::loadYaml(text, kStdinSource), result);
      continue;
    }
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      addLoaded(path, api::loadYamlFile(path), result);
      continue;
    }
    std::string error;
    for (const auto& file : manifestFilesUnder(path, error))
      addLoaded(file, api::loadYamlFile(file), result);
    if (!error.empty()) result.errors.push_back(error);
  }
  return result;
}

}  // namespace meshgate::cli
