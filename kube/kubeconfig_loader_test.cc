// kubeconfig parsing: contexts, inline and file credentials, refusal of insecure clusters.
#include "kube/kubeconfig_loader.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace kube {
namespace {

class KubeconfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kubeconfig-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path dir_;
};

// "-----BEGIN CA-----\n" base64-encoded.
constexpr const char* kCaData = "LS0tLS1CRUdJTiBDQS0tLS0tCg==";

TEST_F(KubeconfigLoaderTest, ReadsCurrentContextWithInlineDataAndRelativeFiles) {
  write("client.crt", "CERT");
  write("client.key", "KEY");
  auto path = write("config", std::string(R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: local, user: admin}
- name: other
  context: {cluster: local, user: robot}
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: )") +
                                  kCaData + R"(
users:
- name: admin
  user:
    client-certificate: client.crt
    client-key: client.key
- name: robot
  user:
    token: s3cret
)");
  auto config = loadKubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().toString();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->caPem, "-----BEGIN CA-----\n");
  EXPECT_EQ(config->clientCertPem, "CERT");
  EXPECT_EQ(config->clientKeyPem, "KEY");
  EXPECT_EQ(config->describe(), "server=https://127.0.0.1:6443 auth=client-cert ca=pinned");

  auto robot = loadKubeconfig(path, {.context = "other", .allowInsecure = false});
  ASSERT_TRUE(robot.ok());
  EXPECT_EQ(robot->bearerToken, "s3cret");
  EXPECT_EQ(robot->describe().find("s3cret"), std::string::npos);
}

TEST_F(KubeconfigLoaderTest, RefusesInsecureSkipVerifyUnlessAllowed) {
  auto path = write("config", R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://10.0.0.1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
)");
  auto refused = loadKubeconfig(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("insecure-skip-tls-verify"), std::string::npos);
  auto allowed = loadKubeconfig(path, {.context = "", .allowInsecure = true});
  ASSERT_TRUE(allowed.ok());
  EXPECT_TRUE(allowed->insecureSkipTlsVerify);
}

TEST_F(KubeconfigLoaderTest, ReportsMissingContextAndPlainHttp) {
  auto path = write("config", R"(current-context: nope
contexts: []
clusters: []
users: []
)");
  auto missing = loadKubeconfig(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, FailureKind::InvalidConfig);
  EXPECT_NE(missing.error().message.find("context nope not found"), std::string::npos);

  auto http = write("http", R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "http://127.0.0.1:8080"}}]
users: [{name: u, user: {}}]
)");
  auto plain = loadKubeconfig(http);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().kind, FailureKind::InvalidConfig);
  EXPECT_NE(plain.error().message.find("https://"), std::string::npos);
}

TEST_F(KubeconfigLoaderTest, InClusterNeedsTheServiceEnvironment) {
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  auto config = inClusterConfig({.tokenFile = write("token", "t"), .caFile = write("ca", "C")});
  ASSERT_FALSE(config.ok());
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  config = inClusterConfig({.tokenFile = write("token", "t"), .caFile = write("ca", "C")});
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config.ok()) << config.error().toString();
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
  EXPECT_EQ(config->caPem, "C");
  EXPECT_EQ(config->bearerTokenFile, (dir_ / "token").string());
}

}  // namespace
}  // namespace kube
