// Tests for cli/manifest_reader.h: files, recursive directories, stdin and List flattening.
#include "cli/manifest_reader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace meshgate::cli {
namespace {

std::vector<std::string> namesOf(const ManifestReadResult& result) {
  std::vector<std::string> names;
  for (const auto& document : result.documents)
    names.push_back(document.object["metadata"]["name"].get<std::string>());
  return names;
}

TEST(ManifestReaderTest, ReadsADirectoryRecursivelyInPathOrderSkippingOtherFiles) {
  std::istringstream in;
  const auto result = readManifests({"cli/testdata/manifests"}, in);
  EXPECT_TRUE(result.errors.empty()) << result.errors.front();
  // first.yaml, then nested/five.json, then nested/list.yml; README.md is not a manifest.
  EXPECT_EQ(namesOf(result), (std::vector<std::string>{"one", "two", "five", "three", "four"}));
  ASSERT_EQ(result.documents.size(), 5u);
  EXPECT_EQ(result.documents[0].source, "cli/testdata/manifests/first.yaml");
  EXPECT_EQ(result.documents[1].index, 1u);
  EXPECT_EQ(result.documents[4].source, "cli/testdata/manifests/nested/list.yml");
  EXPECT_EQ(result.documents[4].index, 1u) << "List items are counted as documents";
}

TEST(ManifestReaderTest, ReadsStdinForDash) {
  std::istringstream in("apiVersion: v1\nkind: Namespace\nmetadata: {name: piped}\n");
  const auto result = readManifests({"-", "cli/testdata/manifests/first.yaml"}, in);
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(namesOf(result), (std::vector<std::string>{"piped", "one", "two"}));
  EXPECT_EQ(result.documents[0].source, kStdinSource);
}

TEST(ManifestReaderTest, NamesMissingPathsAndBrokenFilesButKeepsTheRest) {
  std::istringstream in("kind: [unclosed\n");
  const auto result = readManifests(
      {"cli/testdata/no-such-file.yaml", "-", "cli/testdata/manifests/first.yaml"}, in);
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0].rfind("cli/testdata/no-such-file.yaml: ", 0), 0u) << result.errors[0];
  EXPECT_EQ(result.errors[1].rfind("<stdin>:", 0), 0u) << result.errors[1];
  EXPECT_EQ(namesOf(result), (std::vector<std::string>{"one", "two"}));
}

TEST(ManifestReaderTest, ADirectoryWithoutManifestsIsAnError) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("meshgate-manifest-reader-" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "sub" / "notes.txt") << "not a manifest\n";
  std::istringstream in;
  const auto result = readManifests({dir.string()}, in);
  fs::remove_all(dir);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0], dir.string() + ": no *.yaml, *.yml or *.json file in this directory");
  EXPECT_TRUE(result.documents.empty());
}

}  // namespace
}  // namespace meshgate::cli
