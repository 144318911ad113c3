// The table of invalid objects: every api/testdata/invalid/NNN-*.yaml holds one MeshService or
// ApiRoute with a defect, and its leading `# error: <message>` comment lines list, in order,
// exactly what the validator must return. Other leading comment lines (a description, or the
// `# apiserver: …` lines the CRD schema tests add) are ignored here.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/document_validation.h"
#include "api/yaml_loader.h"

namespace meshgate::api {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInvalidDir = "api/testdata/invalid";
constexpr std::string_view kErrorPrefix = "# error: ";

std::vector<std::string> invalidFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kInvalidDir, ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The `# error:` lines of the comment block that opens the file.
std::vector<std::string> expectedErrors(const std::string& path) {
  std::vector<std::string> expected;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] != '#') break;
    if (line.rfind(kErrorPrefix, 0) == 0) expected.push_back(line.substr(kErrorPrefix.size()));
  }
  return expected;
}

class InvalidObjectTest : public testing::TestWithParam<std::string> {};

TEST_P(InvalidObjectTest, ValidatorReturnsExactlyTheListedErrors) {
  const std::string path = std::string(kInvalidDir) + "/" + GetParam();
  const std::vector<std::string> expected = expectedErrors(path);
  ASSERT_FALSE(expected.empty()) << path << " lists no '# error:' lines";

  const auto loaded = loadYamlFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error;
  ASSERT_EQ(loaded.documents.size(), 1u) << path << " must hold exactly one object";

  const DocumentReport report = validateDocument(loaded.documents[0]);
  ASSERT_TRUE(report.recognized) << path
                                 << " is not a meshgate.io/v1alpha1 MeshService or ApiRoute";
  std::vector<std::string> actual;
  for (const auto& e : report.errors)
    actual.push_back(e.toString());
  EXPECT_EQ(actual, expected) << path;
}

std::string testName(const testing::TestParamInfo<std::string>& info) {
  std::string name = "f" + info.param.substr(0, info.param.size() - std::string(".yaml").size());
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
      '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Testdata, InvalidObjectTest, testing::ValuesIn(invalidFiles()), testName);

TEST(InvalidObjectTableTest, HoldsAtLeastFortyCasesOfBothKinds) {
  const auto files = invalidFiles();
  EXPECT_GE(files.size(), 40u);
  std::size_t meshServices = 0;
  std::size_t apiRoutes = 0;
  for (const auto& f : files) {
    const auto loaded = loadYamlFile(std::string(kInvalidDir) + "/" + f);
    if (!loaded.ok() || loaded.documents.empty()) continue;
    const auto kind = loaded.documents[0].value("kind", "");
    meshServices += kind == "MeshService";
    apiRoutes += kind == "ApiRoute";
  }
  EXPECT_GE(meshServices, 20u);
  EXPECT_GE(apiRoutes, 20u);
}

}  // namespace
}  // namespace meshgate::api
