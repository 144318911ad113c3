// Tests of the persisted snapshot file: private and atomic writes, absent and corrupt files.
#include "dataplane/proxy/persisted_snapshot.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

using ::testing::HasSubstr;

class PersistedSnapshotTest : public ::testing::Test {
 protected:
  PersistedSnapshotTest() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meshgate-snapshot-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    path_ = dir_ + "/snapshot.json";
  }
  ~PersistedSnapshotTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  static unsigned mode(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return 0;
    return info.st_mode & 0777;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(PersistedSnapshotTest, WritesAPrivateFileAndReadsItBack) {
  // A leftover PATH.tmp readable by others must not make the new file readable by others.
  std::ofstream(path_ + ".tmp") << "old";
  ::chmod((path_ + ".tmp").c_str(), 0644);
  ASSERT_TRUE(writePersistedSnapshot(path_, R"({"version":"v1"})").ok());
  EXPECT_EQ(mode(path_), 0600u);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  auto read = readPersistedSnapshot(path_);
  ASSERT_TRUE(read.ok()) << read.error();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((**read)["version"], "v1");

  ASSERT_TRUE(writePersistedSnapshot(path_, R"({"version":"v2"})").ok());
  read = readPersistedSnapshot(path_);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ((**read)["version"], "v2");
}

TEST_F(PersistedSnapshotTest, AnAbsentFileIsNoSnapshotAndACorruptOneAnError) {
  auto absent = readPersistedSnapshot(path_);
  ASSERT_TRUE(absent.ok()) << absent.error();
  EXPECT_FALSE(absent->has_value());

  std::ofstream(path_) << R"({"version": "v1", "listeners": [)";
  auto corrupt = readPersistedSnapshot(path_);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_THAT(corrupt.error(), HasSubstr("not a JSON document"));
}

TEST_F(PersistedSnapshotTest, AnUnwritableDirectoryIsReported) {
  const auto written = writePersistedSnapshot(dir_ + "/missing/snapshot.json", "{}");
  ASSERT_FALSE(written.ok());
  EXPECT_THAT(written.error(), HasSubstr("cannot create"));
}

}  // namespace
}  // namespace meshgate::dp
