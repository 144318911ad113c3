// ConfigReloader: a good file is applied, a bad one refused while the last good one stays.
#include "webhook/config_reloader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace meshgate::webhook {
namespace {

class ConfigReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/meshgate-config-reloader-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/config.yaml";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& text) { std::ofstream(path_) << text; }

  std::string dir_;
  std::string path_;
  metrics::Registry registry_;
};

TEST_F(ConfigReloaderTest, NoFileMeansTheDefaults) {
  auto reloader = ConfigReloader::load("", registry_);
  ASSERT_TRUE(reloader.ok()) << reloader.error();
  EXPECT_FALSE((*reloader)->current()->policy.requireTLS);
  EXPECT_EQ((*reloader)->current()->injection.image, WebhookConfig{}.injection.image);
}

TEST_F(ConfigReloaderTest, AMissingOrBadFileAtStartIsAnErrorNamingTheFile) {
  auto missing = ConfigReloader::load(path_, registry_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find(path_ + ": cannot read"), std::string::npos);
  write("policy:\n  requireTLS: maybe\n");
  auto bad = ConfigReloader::load(path_, registry_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("policy.requireTLS"), std::string::npos) << bad.error();
}

TEST_F(ConfigReloaderTest, ABadNewFileKeepsTheLastGoodConfig) {
  write("policy:\n  requireTLS: true\n");
  auto reloader = ConfigReloader::load(path_, registry_);
  ASSERT_TRUE(reloader.ok()) << reloader.error();
  EXPECT_TRUE((*reloader)->current()->policy.requireTLS);

  write("policy:\n  maxRateLimitBurst: -4\n");
  auto refused = (*reloader)->reload();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("policy.maxRateLimitBurst"), std::string::npos);
  EXPECT_TRUE((*reloader)->current()->policy.requireTLS);

  write("policy:\n  maxRateLimitBurst: 50\n");
  ASSERT_TRUE((*reloader)->reload().ok());
  EXPECT_FALSE((*reloader)->current()->policy.requireTLS);
  EXPECT_EQ((*reloader)->current()->policy.maxRateLimitBurst, 50);
}

TEST_F(ConfigReloaderTest, TheSidecarImageFlagWinsOverTheFileOnEveryReload) {
  write("injection:\n  image: file.example/proxy:1\n");
  auto plain = ConfigReloader::load(path_, registry_);
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_EQ((*plain)->current()->injection.image, "file.example/proxy:1");

  auto reloader = ConfigReloader::load(path_, registry_,
                                       {.sidecarImage = "flag.example/proxy:2", .initImage = ""});
  ASSERT_TRUE(reloader.ok()) << reloader.error();
  EXPECT_EQ((*reloader)->current()->injection.image, "flag.example/proxy:2");
  write("injection:\n  image: file.example/proxy:3\n  imagePullPolicy: Never\n");
  ASSERT_TRUE((*reloader)->reload().ok());
  EXPECT_EQ((*reloader)->current()->injection.image, "flag.example/proxy:2");
  EXPECT_EQ((*reloader)->current()->injection.imagePullPolicy, "Never");

  auto withoutFile = ConfigReloader::load(
      "", registry_, {.sidecarImage = "flag.example/proxy:2", .initImage = ""});
  ASSERT_TRUE(withoutFile.ok()) << withoutFile.error();
  EXPECT_EQ((*withoutFile)->current()->injection.image, "flag.example/proxy:2");
}

TEST_F(ConfigReloaderTest, TheInitImageFlagWinsOverTheFileOnEveryReload) {
  write("injection:\n  initImage: file.example/init:1\n");
  auto reloader = ConfigReloader::load(path_, registry_,
                                       {.sidecarImage = "", .initImage = "flag.example/init:2"});
  ASSERT_TRUE(reloader.ok()) << reloader.error();
  EXPECT_EQ((*reloader)->current()->injection.initImage, "flag.example/init:2");
  write("injection:\n  initImage: file.example/init:3\n  image: file.example/proxy:3\n");
  ASSERT_TRUE((*reloader)->reload().ok());
  EXPECT_EQ((*reloader)->current()->injection.initImage, "flag.example/init:2");
  // Each flag overrides its own field only.
  EXPECT_EQ((*reloader)->current()->injection.image, "file.example/proxy:3");
}

TEST_F(ConfigReloaderTest, AChangedFileIsReloadedByTheWatcher) {
  write("policy:\n  requireAuth: false\n");
  // Declared first: the watcher's descriptor and timer must go before the context they use.
  boost::asio::io_context context;
  auto reloader = ConfigReloader::load(path_, registry_);
  ASSERT_TRUE(reloader.ok()) << reloader.error();
  (*reloader)->watch(context);
  // Replace the file by rename, as a ConfigMap volume or an editor does.
  std::ofstream(path_ + ".new") << "policy:\n  requireAuth: true\n";
  std::filesystem::rename(path_ + ".new", path_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(*reloader)->current()->policy.requireAuth && std::chrono::steady_clock::now() < deadline)
    context.run_for(std::chrono::milliseconds(50));
  EXPECT_TRUE((*reloader)->current()->policy.requireAuth);
}

}  // namespace
}  // namespace meshgate::webhook
