// api/testdata/roundtrip-apply/ is the variant of the round-trip fixtures (api/testdata/roundtrip/)
// that a real apiserver accepts (test/e2e/15_crd_dry_run_test.sh applies it with
// --dry-run=server --validate=strict). These tests keep the two in step: the apply variant must
// decode without losing a field and validate cleanly, and set exactly the spec fields the
// round-trip fixtures set — so a field added to the codec must be added to both, and then the CRD
// schema is checked for it against the apiserver.
#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/api_route_codec.h"
#include "api/document_validation.h"
#include "api/mesh_service_codec.h"
#include "api/yaml_loader.h"

namespace meshgate::api {
namespace {

using nlohmann::json;

constexpr const char* kApplyDir = "api/testdata/roundtrip-apply";

// Spec fields whose value is a map of user-chosen keys: their keys are data, not field names.
const std::set<std::string> kMapFields = {"spec.selector", "spec.subsets[].labels"};

// Round-trip fields that no valid object may set, each covered elsewhere in the apply variant.
const std::set<std::string> kUnreachable = {
    "spec.auth.disabled",  // Forbidden outside a rule; spec.rules[].auth.disabled covers it
};

std::vector<json> loadDocuments(const std::string& path) {
  const auto loaded = loadYamlFile(path);
  EXPECT_TRUE(loaded.ok()) << loaded.error;
  return loaded.documents;
}

std::vector<json> applyDocuments(const std::string& kind) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kApplyDir))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  std::vector<json> out;
  for (const auto& file : files)
    for (auto& document : loadDocuments(file))
      if (document.value("kind", "") == kind) out.push_back(std::move(document));
  return out;
}

// Every field path under `value` that holds a scalar or an empty object or list, with list
// indexes written "[]" and the keys of kMapFields written "*".
void collectPaths(const json& value, const std::string& path, std::set<std::string>& out) {
  if (value.is_object() && !value.empty()) {
    const bool isMap = kMapFields.count(path) > 0;
    for (const auto& [key, child] : value.items())
      collectPaths(child, path + "." + (isMap ? "*" : key), out);
  } else if (value.is_array() && !value.empty()) {
    for (const auto& item : value)
      collectPaths(item, path + "[]", out);
  } else {
    out.insert(path);
  }
}

std::set<std::string> specPaths(const std::vector<json>& documents) {
  std::set<std::string> out;
  for (const auto& document : documents)
    collectPaths(document.value("spec", json::object()), "spec", out);
  return out;
}

std::set<std::string> minus(std::set<std::string> a, const std::set<std::string>& b) {
  for (const auto& item : b)
    a.erase(item);
  return a;
}

std::string listed(const std::set<std::string>& paths) {
  std::string out;
  for (const auto& path : paths)
    out += "  " + path + "\n";
  return out;
}

TEST(RoundTripApplyTest, EveryObjectDecodesWithoutLossAndValidates) {
  std::size_t checked = 0;
  for (const char* kind : {"MeshService", "ApiRoute"}) {
    for (const auto& document : applyDocuments(kind)) {
      ++checked;
      const std::string name = document["metadata"].value("name", "");
      EXPECT_FALSE(document["metadata"].contains("namespace")) << name << ": applied with -n";
      const DocumentReport report = validateDocument(document);
      EXPECT_TRUE(report.recognized) << name;
      EXPECT_TRUE(report.errors.empty()) << name << ":\n" << formatErrors(report.errors);
      // Encoding what was decoded gives the document back: no field the codec does not know.
      const json encoded = std::string(kind) == "MeshService"
                               ? encodeMeshService(*decodeMeshService(document).object)
                               : encodeApiRoute(*decodeApiRoute(document).object);
      EXPECT_EQ(encoded, document) << name;
    }
  }
  EXPECT_EQ(checked, 5u) << "three MeshServices and two ApiRoutes in " << kApplyDir;
}

TEST(RoundTripApplyTest, SetsExactlyTheSpecFieldsOfTheRoundTripFixtures) {
  const struct {
    const char* kind;
    const char* roundTrip;
  } cases[] = {{"MeshService", "api/testdata/roundtrip/mesh-service.yaml"},
               {"ApiRoute", "api/testdata/roundtrip/api-route.yaml"}};
  for (const auto& c : cases) {
    const std::set<std::string> wanted = minus(specPaths(loadDocuments(c.roundTrip)), kUnreachable);
    const std::set<std::string> applied = specPaths(applyDocuments(c.kind));
    ASSERT_GE(wanted.size(), 30u) << c.roundTrip;
    EXPECT_EQ(listed(minus(wanted, applied)), "")
        << c.kind << " fields of " << c.roundTrip << " that " << kApplyDir << " does not set";
    EXPECT_EQ(listed(minus(applied, wanted)), "")
        << c.kind << " fields " << kApplyDir << " sets that " << c.roundTrip
        << " does not (add them there too)";
  }
}

}  // namespace
}  // namespace meshgate::api
