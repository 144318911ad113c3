// Tests of SidecarServer, in process, its admin endpoint read over HTTP: /ready is 200 without
// identity files (the pod is not held back) and with a valid identity, 503 once the identity
// expires or when the files there never checked; /identity shows the identity held or
// {"state":"none"}; /stats carries the identity's expiry and the reload counts; an identity whose
// Secret appears after the start is picked up.
#include "dataplane/proxy/sidecar_server.h"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/testing/eventually.h"
#include "dataplane/proxy/rfc3339_time.h"
#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/raw_http_client.h"
#include "dataplane/proxy/testing/secret_volume.h"

namespace meshgate::dp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using meshgate::testing::eventually;
using testing::must;
using testing::PemPair;
using testing::RawHttpClient;
using testing::RawResponse;
using testing::SecretVolume;
using testing::StreamCertificates;

constexpr char kSpiffeId[] = "spiffe://cluster.local/ns/shop/sa/orders";
constexpr char kNoIdentityReady[] =
    "ready (no workload identity: no MeshService uses this service account)\n";

// A SidecarServer on its own thread over an identity Secret volume the test writes; its clock
// moves when the test says. Stopped when it goes.
class SidecarServerTest : public ::testing::Test {
 protected:
  SidecarServerTest() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meshgate-sidecar-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    volume_.emplace(root_ + "/identity");
  }
  ~SidecarServerTest() override {
    if (thread_.joinable()) {
      server_->requestStop();
      thread_.join();
    }
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  void start() {
    SidecarOptions options;
    options.certDir = volume_->path();
    options.node = "sidecar~orders-0.shop";
    options.adminAddress = "127.0.0.1:0";
    options.identityPollInterval = 200ms;
    options.clock = [this] { return std::chrono::system_clock::now() + skew_.load(); };
    options.listen = {.outboundAddress = "127.0.0.1",
                      .outboundPort = 0,
                      .inboundAddress = "127.0.0.1",
                      .inboundPort = 0};
    server_ = must(SidecarServer::create(std::move(options)));
    thread_ = std::thread([this] {
      server_->run();
      exited_ = true;
    });
    ASSERT_TRUE(eventually([this] { return server_->adminPort() != 0 || exited_; }));
    ASSERT_FALSE(exited_) << "the sidecar did not start (its log says why)";
  }

  PemPair issue(std::chrono::seconds lifetime = 24h) const {
    return mesh_.issue(pki::CertificateTemplate::forWorkload(kSpiffeId, lifetime));
  }
  void writeIdentity(const PemPair& pair) {
    volume_->update(
        {{"tls.crt", pair.certificatePem}, {"tls.key", pair.keyPem}, {"ca.crt", mesh_.caPem()}});
  }
  void moveClock(std::chrono::seconds fromNow) {
    skew_ = std::chrono::duration_cast<std::chrono::system_clock::duration>(fromNow);
  }

  RawResponse get(const std::string& target) {
    RawHttpClient client(server_->adminPort());
    EXPECT_TRUE(
        client.send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
        << client.error();
    const std::optional<RawResponse> response = client.readResponse();
    EXPECT_TRUE(response) << target << ": " << client.error();
    return response.value_or(RawResponse{});
  }

  std::string root_;
  StreamCertificates mesh_;
  std::optional<SecretVolume> volume_;
  std::atomic<std::chrono::system_clock::duration> skew_{std::chrono::system_clock::duration{0}};
  std::unique_ptr<SidecarServer> server_;
  std::thread thread_;
  std::atomic<bool> exited_{false};
};

TEST_F(SidecarServerTest, ReadyWithoutIdentityFiles) {
  start();

  const RawResponse ready = get("/ready");
  EXPECT_EQ(ready.status, 200u);
  EXPECT_EQ(ready.body, kNoIdentityReady);
  EXPECT_EQ(get("/readyz").status, 200u);
  EXPECT_EQ(nlohmann::json::parse(get("/identity").body), nlohmann::json({{"state", "none"}}));

  const std::string stats = get("/stats").body;
  EXPECT_THAT(stats, Not(HasSubstr("meshgate_proxy_identity_expiry_timestamp_seconds")));
  EXPECT_THAT(stats, HasSubstr("meshgate_proxy_identity_reloads_total{result=\"ok\"} 0\n"));
  EXPECT_THAT(stats, HasSubstr("meshgate_proxy_identity_reloads_total{result=\"rejected\"} 0\n"));
}

TEST_F(SidecarServerTest, ReadyWithAValidIdentityAndShowsIt) {
  const PemPair pair = issue();
  writeIdentity(pair);
  const pki::Certificate leaf = must(pki::Certificate::fromPem(pair.certificatePem));
  start();

  const RawResponse ready = get("/ready");
  EXPECT_EQ(ready.status, 200u);
  EXPECT_THAT(ready.body, HasSubstr("ready (workload identity " + std::string(kSpiffeId)));

  const nlohmann::json identity = nlohmann::json::parse(get("/identity").body);
  EXPECT_EQ(identity["spiffeId"], kSpiffeId);
  EXPECT_EQ(identity["serial"], leaf.serialHex());
  EXPECT_EQ(identity["notBefore"], rfc3339(leaf.notBefore()));
  EXPECT_EQ(identity["notAfter"], rfc3339(leaf.notAfter()));
  EXPECT_TRUE(identity.contains("loadedAt"));
  EXPECT_FALSE(identity.contains("state"));

  const auto notAfter =
      std::chrono::duration_cast<std::chrono::seconds>(leaf.notAfter().time_since_epoch()).count();
  const std::string stats = get("/stats").body;
  EXPECT_THAT(stats, HasSubstr("meshgate_proxy_identity_expiry_timestamp_seconds " +
                               std::to_string(notAfter) + "\n"));
  EXPECT_THAT(stats, HasSubstr("meshgate_proxy_identity_reloads_total{result=\"ok\"} 1\n"));
}

TEST_F(SidecarServerTest, UnreadyOnceTheIdentityExpires) {
  writeIdentity(issue(1h));
  start();
  ASSERT_EQ(get("/ready").status, 200u);

  moveClock(2h);

  const RawResponse ready = get("/ready");
  EXPECT_EQ(ready.status, 503u);
  EXPECT_THAT(ready.body, HasSubstr("workload identity " + std::string(kSpiffeId)));
  EXPECT_THAT(ready.body, HasSubstr("expired at"));
  EXPECT_EQ(get("/readyz").status, 503u);
  // Still the identity held: the files did not change.
  EXPECT_EQ(nlohmann::json::parse(get("/identity").body)["spiffeId"], kSpiffeId);
}

TEST_F(SidecarServerTest, UnreadyWhenTheFilesThereNeverChecked) {
  PemPair mismatched = issue();
  mismatched.keyPem = issue().keyPem;
  writeIdentity(mismatched);
  start();

  const RawResponse ready = get("/ready");
  EXPECT_EQ(ready.status, 503u);
  EXPECT_THAT(ready.body, HasSubstr("no valid workload identity: " + volume_->path() +
                                    "/tls.key: the key does not belong"));
  const nlohmann::json identity = nlohmann::json::parse(get("/identity").body);
  EXPECT_EQ(identity["state"], "none");
  EXPECT_THAT(identity["lastRejected"].get<std::string>(), HasSubstr("does not belong"));
  EXPECT_THAT(get("/stats").body,
              HasSubstr("meshgate_proxy_identity_reloads_total{result=\"rejected\"} 1\n"));
}

TEST_F(SidecarServerTest, IdentityWhoseSecretAppearsLaterIsServed) {
  start();
  ASSERT_EQ(get("/ready").body, kNoIdentityReady);

  writeIdentity(issue());

  EXPECT_TRUE(eventually([&] {
    return nlohmann::json::parse(get("/identity").body).value("spiffeId", "") == kSpiffeId;
  }));
  EXPECT_THAT(get("/ready").body, HasSubstr("ready (workload identity " + std::string(kSpiffeId)));
}

}  // namespace
}  // namespace meshgate::dp
