// Every meshgate object in config/samples/ (and config/samples/demo/) must decode and validate
// cleanly: the samples are what users copy, and the CRD schema tests apply them to a real
// apiserver.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/document_validation.h"
#include "api/yaml_loader.h"

namespace meshgate::api {
namespace {

namespace fs = std::filesystem;

TEST(SamplesTest, EveryMeshgateSampleIsValid) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator("config/samples", ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());

  std::size_t checked = 0;
  for (const auto& file : files) {
    const auto loaded = loadYamlFile(file.string());
    ASSERT_TRUE(loaded.ok()) << loaded.error;
    for (const auto& doc : loaded.documents) {
      const DocumentReport report = validateDocument(doc);
      if (!report.recognized) continue;
      ++checked;
      EXPECT_TRUE(report.errors.empty())
          << file.string() << ": " << report.kind << "/" << report.name << ":\n"
          << formatErrors(report.errors);
    }
  }
  EXPECT_GE(checked, 2u) << "config/samples should hold at least two MeshService/ApiRoute objects";
}

}  // namespace
}  // namespace meshgate::api
