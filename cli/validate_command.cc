// meshgatectl validate; see cli/validate_command.h.
#include "cli/validate_command.h"

#include <istream>
#include <iterator>
#include <ostream>

#include <nlohmann/json.hpp>

#include "api/document_validation.h"
#include "api/yaml_loader.h"

namespace meshgate::cli {
namespace {

constexpr const char* kStdinName = "<stdin>";

struct Tally {
  int valid = 0;
  int invalid = 0;
};

std::string describe(const api::DocumentReport& report, std::size_t index) {
  if (report.kind.empty()) return "document " + std::to_string(index + 1);
  return report.kind + "/" + report.name;
}

void checkDocument(const std::string& file, const nlohmann::json& doc, std::size_t index,
                   std::ostream& out, std::ostream& err, Tally& tally) {
  // kubectl's `kind: List` wraps objects in `items`; check them one by one.
  if (doc.is_object() && doc.value("kind", nlohmann::json()) == "List" && doc.contains("items") &&
      doc["items"].is_array()) {
    const auto& items = doc["items"];
    for (std::size_t i = 0; i < items.size(); ++i)
      checkDocument(file, items[i], i, out, err, tally);
    return;
  }
  const api::DocumentReport report = api::validateDocument(doc);
  if (!report.recognized && report.errors.empty()) {
    err << file << ": skipping " << report.apiVersion << "/" << report.kind << " " << report.name
        << ": not a " << api::kGroupVersion << " MeshService or ApiRoute\n";
    return;
  }
  if (report.errors.empty()) {
    ++tally.valid;
    return;
  }
  ++tally.invalid;
  for (const auto& e : report.errors) {
    out << file << ": " << describe(report, index) << ": " << e.toString() << '\n';
  }
}

}  // namespace

int runValidate(const std::vector<std::string>& files, std::istream& in, std::ostream& out,
                std::ostream& err) {
  Tally tally;
  bool unreadable = false;
  for (const auto& file : files) {
    api::YamlLoadResult loaded;
    std::string name = file;
    if (file == "-") {
      name = kStdinName;
      const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      loaded = api::loadYaml(text, name);
    } else {
      loaded = api::loadYamlFile(file);
    }
    if (!loaded.ok()) {
      out << loaded.error << '\n';
      unreadable = true;
      continue;
    }
    for (std::size_t i = 0; i < loaded.documents.size(); ++i) {
      checkDocument(name, loaded.documents[i], i, out, err, tally);
    }
  }
  if (tally.invalid > 0 || unreadable) {
    err << tally.invalid << " of " << (tally.valid + tally.invalid) << " objects invalid"
        << (unreadable ? ", some files could not be loaded" : "") << '\n';
    return 1;
  }
  out << tally.valid << " objects valid\n";
  return 0;
}

}  // namespace meshgate::cli
