// Tests of ConfigStreamClient against a fake operator (testing/fake_config_server.h): URL parsing,
// the backoff ceiling, Hello, Ack and Nack, refusing a server whose certificate does not name the
// host, reconnecting after a drop, and re-reading the certificate directory at each attempt.
#include "dataplane/proxy/config_stream_client.h"

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include "api/config_delta.h"
#include "base/testing/eventually.h"

#include "dataplane/proxy/testing/fake_config_server.h"

namespace meshgate::dp {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace stream = api::stream;
using testing::FakeConfigServer;
using testing::StreamCertificates;

using meshgate::testing::eventually;

// The client on an io_context of its own thread, as ProxyServer runs it on its main thread.
class ClientHarness {
 public:
  ClientHarness(const std::string& url, const std::string& certDir) {
    auto endpoint = parseControlPlaneUrl(url);
    if (!endpoint) throw std::runtime_error(endpoint.error());
    ConfigStreamClientOptions options;
    options.endpoint = *endpoint;
    options.certDir = certDir;
    options.hello = {.node = "gateway~test",
                     .mode = std::string(stream::kModeGateway),
                     .ingressClass = "meshgate",
                     .version = "",
                     .proxyVersion = "0.1.0"};
    options.handshakeTimeout = 5s;
    options.backoffBase = 10ms;
    options.backoffCap = 100ms;
    client_ = ConfigStreamClient::create(
        context_, options,
        {.apply =
             [this](const std::string& version, const nlohmann::json& config) {
               std::lock_guard lock(mutex_);
               applied_.emplace_back(version, config);
               if (!refuse_.empty()) return ConfigStreamClient::ApplyResult{refuse_, {}};
               serving_ = version;
               return ConfigStreamClient::ApplyResult{{}, refusedRoutes_};
             },
         .servingVersion =
             [this] {
               std::lock_guard lock(mutex_);
               return serving_;
             },
         .connectionChanged = {}});
    boost::asio::post(context_, [this] { client_->start(); });
    thread_ = std::thread([this] { context_.run(); });
  }
  ~ClientHarness() {
    boost::asio::post(context_, [this] { client_->stop(); });
    work_.reset();
    context_.stop();
    thread_.join();
  }

  ConfigStreamStatus status() const { return client_->status(); }
  void refuseWith(std::vector<std::string> errors) {
    std::lock_guard lock(mutex_);
    refuse_ = std::move(errors);
  }
  void refuseRoutes(std::map<std::string, std::vector<std::string>> routes) {
    std::lock_guard lock(mutex_);
    refusedRoutes_ = std::move(routes);
  }
  size_t appliedCount() const {
    std::lock_guard lock(mutex_);
    return applied_.size();
  }
  std::pair<std::string, nlohmann::json> applied(size_t i) const {
    std::lock_guard lock(mutex_);
    return applied_.at(i);
  }

 private:
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      context_.get_executor()};
  ConfigStreamClientSharedPtr client_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, nlohmann::json>> applied_;
  std::vector<std::string> refuse_;
  std::map<std::string, std::vector<std::string>> refusedRoutes_;
  std::string serving_;
};

stream::ClientMessage decodeClient(const std::optional<std::string>& frame) {
  if (!frame) throw std::runtime_error("no frame");
  auto message = stream::decodeClientMessage(*frame);
  if (!message) throw std::runtime_error(message.error());
  return *message;
}

std::string snapshotFrame(const std::string& version) {
  return stream::encode(stream::ServerMessage(stream::Snapshot{
      version, nlohmann::json{{"version", version}, {"listeners", nlohmann::json::array()}}}));
}

TEST(ControlPlaneUrlTest, ParsesHostAndPortWithTheDefaultPort) {
  auto parsed = parseControlPlaneUrl("https://meshgate-operator.meshgate-system.svc:15012");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->host, "meshgate-operator.meshgate-system.svc");
  EXPECT_EQ(parsed->port, 15012);
  EXPECT_FALSE(parsed->hostIsIpAddress);
  EXPECT_EQ(parsed->authority(), "meshgate-operator.meshgate-system.svc:15012");

  parsed = parseControlPlaneUrl("https://operator");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->port, stream::kDefaultPort);

  parsed = parseControlPlaneUrl("https://[::1]:9000/");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_TRUE(parsed->hostIsIpAddress);
  EXPECT_EQ(parsed->authority(), "[::1]:9000");

  parsed = parseControlPlaneUrl("https://10.0.0.1");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(parsed->hostIsIpAddress);
}

TEST(ControlPlaneUrlTest, RefusesAnythingButHttpsHostPort) {
  EXPECT_THAT(parseControlPlaneUrl("http://operator:15012").error(), HasSubstr("must be https"));
  EXPECT_THAT(parseControlPlaneUrl("operator:15012").error(), HasSubstr("--control-plane"));
  EXPECT_THAT(parseControlPlaneUrl("https://operator:15012/v1alpha1/stream").error(),
              HasSubstr("only https://HOST[:PORT]"));
  EXPECT_THAT(parseControlPlaneUrl("https://user@operator").error(),
              HasSubstr("only https://HOST[:PORT]"));
  EXPECT_FALSE(parseControlPlaneUrl("https://operator:0").ok());
  EXPECT_FALSE(parseControlPlaneUrl("https://operator:99999").ok());
}

TEST(BackoffTest, CeilingDoublesFromTheBaseUpToTheCap) {
  EXPECT_EQ(backoffCeiling(0, 500ms, 30s), 500ms);
  EXPECT_EQ(backoffCeiling(1, 500ms, 30s), 1000ms);
  EXPECT_EQ(backoffCeiling(5, 500ms, 30s), 16000ms);
  EXPECT_EQ(backoffCeiling(6, 500ms, 30s), 30s);
  EXPECT_EQ(backoffCeiling(1000, 500ms, 30s), 30s);
}

TEST(ConfigStreamClientTest, SendsHelloAppliesASnapshotAndAcksIt) {
  StreamCertificates certs;
  FakeConfigServer server(certs.server(), certs.caPem());
  ClientHarness client(server.url(), certs.certDir());

  ASSERT_EQ(server.accept(), "");
  EXPECT_EQ(server.upgradeTarget(), stream::kPath);
  EXPECT_EQ(server.upgradeHost(), "localhost:" + std::to_string(server.port()));
  const auto hello = decodeClient(server.readFrame());
  ASSERT_TRUE(std::holds_alternative<stream::Hello>(hello));
  EXPECT_EQ(std::get<stream::Hello>(hello),
            (stream::Hello{"gateway~test", "gateway", "meshgate", "", "0.1.0"}));
  EXPECT_TRUE(eventually([&] { return client.status().connected; }));
  EXPECT_TRUE(client.status().connectedSince.has_value());

  ASSERT_TRUE(server.send(snapshotFrame("v1")));
  EXPECT_EQ(decodeClient(server.readFrame()), stream::ClientMessage(stream::Ack{"v1"}));
  ASSERT_EQ(client.appliedCount(), 1u);
  EXPECT_EQ(client.applied(0).first, "v1");
  EXPECT_EQ(client.applied(0).second["version"], "v1");

  // Frames are answered one at a time, in order.
  ASSERT_TRUE(server.send(snapshotFrame("v2")));
  ASSERT_TRUE(server.send(snapshotFrame("v3")));
  EXPECT_EQ(decodeClient(server.readFrame()), stream::ClientMessage(stream::Ack{"v2"}));
  EXPECT_EQ(decodeClient(server.readFrame()), stream::ClientMessage(stream::Ack{"v3"}));
}

TEST(ConfigStreamClientTest, NacksWithTheErrorsOfTheRefusedSnapshot) {
  StreamCertificates certs;
  FakeConfigServer server(certs.server(), certs.caPem());
  ClientHarness client(server.url(), certs.certDir());
  client.refuseWith({"listeners: Required value: at least one listener", "second error"});

  ASSERT_EQ(server.accept(), "");
  ASSERT_TRUE(server.readFrame());  // Hello
  ASSERT_TRUE(server.send(snapshotFrame("bad")));
  EXPECT_EQ(decodeClient(server.readFrame()),
            stream::ClientMessage(stream::Nack{
                "bad", {"listeners: Required value: at least one listener", "second error"}}));
}

TEST(ConfigStreamClientTest, AcksWithTheRoutesItServesWithout) {
  StreamCertificates certs;
  FakeConfigServer server(certs.server(), certs.caPem());
  ClientHarness client(server.url(), certs.certDir());
  client.refuseRoutes({{"shop/cart", {"spec.rules[0].rateLimit: Forbidden: not supported"}}});

  ASSERT_EQ(server.accept(), "");
  ASSERT_TRUE(server.readFrame());  // Hello
  ASSERT_TRUE(server.send(snapshotFrame("v1")));
  EXPECT_EQ(decodeClient(server.readFrame()),
            stream::ClientMessage(stream::Ack{
                "v1", {{"shop/cart", {"spec.rules[0].rateLimit: Forbidden: not supported"}}}}));
}

TEST(ConfigStreamClientTest, AppliesADeltaToTheConfigItReceivedLastEvenAfterANack) {
  StreamCertificates certs;
  FakeConfigServer server(certs.server(), certs.caPem());
  ClientHarness client(server.url(), certs.certDir());

  ASSERT_EQ(server.accept(), "");
  ASSERT_TRUE(server.readFrame());  // Hello
  const nlohmann::json v1 = {{"version", "v1"},
                             {"routes", {{{"name", "a"}}, {{"name", "b"}}, {{"name", "c"}}}}};
  const auto split1 = stream::splitConfig(v1);
  ASSERT_TRUE(server.send(stream::encodeSnapshotFrame("v1", stream::joinConfig(split1))));
  EXPECT_EQ(decodeClient(server.readFrame()), stream::ClientMessage(stream::Ack{"v1"}));

  // v2 is refused, yet it is what the connection holds: the next delta is from v2.
  client.refuseWith({"routes[1]: bad"});
  nlohmann::json v2 = v1;
  v2["version"] = "v2";
  v2["routes"][1] = {{"name", "b"}, {"bad", true}};
  const auto split2 = stream::splitConfig(v2, &split1);
  ASSERT_TRUE(server.send(stream::encodeDeltaFrame("v2", "v1", split1, split2)));
  EXPECT_EQ(decodeClient(server.readFrame()),
            stream::ClientMessage(stream::Nack{"v2", {"routes[1]: bad"}}));

  client.refuseWith({});
  nlohmann::json v3 = v2;
  v3["version"] = "v3";
  v3["routes"].erase(0);
  v3["routes"].push_back({{"name", "d"}});
  const auto split3 = stream::splitConfig(v3, &split2);
  ASSERT_TRUE(server.send(stream::encodeDeltaFrame("v3", "v2", split2, split3)));
  EXPECT_EQ(decodeClient(server.readFrame()), stream::ClientMessage(stream::Ack{"v3"}));
  ASSERT_EQ(client.appliedCount(), 3u);
  EXPECT_EQ(client.applied(1).second, v2);
  EXPECT_EQ(client.applied(2).second, v3);
}

TEST(ConfigStreamClientTest, ADeltaFromAnotherVersionIsAProtocolErrorAndReconnects) {
  StreamCertificates certs;
  FakeConfigServer server(certs.server(), certs.caPem());
  ClientHarness client(server.url(), certs.certDir());

  ASSERT_EQ(server.accept(), "");
  ASSERT_TRUE(server.readFrame());  // Hello
  ASSERT_TRUE(server.send(snapshotFrame("v1")));
  ASSERT_TRUE(server.readFrame());  // Ack
  ASSERT_TRUE(server.send(stream::encode(stream::ServerMessage(stream::Delta{"v3", "v2"}))));
  // No answer to it: the connection ends and a new one starts, which gets a whole snapshot.
  ASSERT_EQ(server.accept(), "");
  const auto hello = decodeClient(server.readFrame());
  ASSERT_TRUE(std::holds_alternative<stream::Hello>(hello));
  EXPECT_EQ(std::get<stream::Hello>(hello).version, "v1");
  EXPECT_EQ(client.appliedCount(), 1u);
  EXPECT_TRUE(eventually([&] {
    return client.status().lastError.find(
               "protocol error: a delta from version \"v2\" while holding \"v1\"") !=
           std::string::npos;
  })) << client.status().lastError;
}

TEST(ConfigStreamClientTest, RefusesAServerWhoseCertificateDoesNotNameTheHost) {
  StreamCertificates certs;
  const testing::PemPair other =
      certs.issue(pki::CertificateTemplate::forHosts({"operator.example"}));
  FakeConfigServer server(other, certs.caPem());
  ClientHarness client(server.url(), certs.certDir());

  // The client aborts the TLS handshake: no WebSocket, no Hello — attempt after attempt.
  for (int attempt = 0; attempt < 3; ++attempt)
    EXPECT_THAT(server.accept(), HasSubstr("TLS handshake")) << "attempt " << attempt;
  EXPECT_TRUE(eventually([&] {
    return client.status().lastError.find("hostname mismatch") != std::string::npos;
  })) << client.status().lastError;
  EXPECT_FALSE(client.status().connected);
  EXPECT_EQ(client.appliedCount(), 0u);
}

TEST(ConfigStreamClientTest, ReconnectsAfterTheServerDropsAndSaysWhatItServes) {
  StreamCertificates certs;
  FakeConfigServer server(certs.server(), certs.caPem());
  ClientHarness client(server.url(), certs.certDir());

  ASSERT_EQ(server.accept(), "");
  ASSERT_TRUE(server.readFrame());  // Hello
  ASSERT_TRUE(server.send(snapshotFrame("v1")));
  ASSERT_TRUE(server.readFrame());  // Ack
  server.drop();

  ASSERT_EQ(server.accept(), "");
  const auto hello = decodeClient(server.readFrame());
  ASSERT_TRUE(std::holds_alternative<stream::Hello>(hello));
  EXPECT_EQ(std::get<stream::Hello>(hello).version, "v1");
  EXPECT_TRUE(eventually([&] { return client.status().connected; }));
  EXPECT_FALSE(client.status().lastError.empty());  // the drop is remembered
}

TEST(ConfigStreamClientTest, ReadsTheCertificateDirectoryAgainAtEveryAttempt) {
  StreamCertificates certs;
  FakeConfigServer server(certs.server(), certs.caPem());
  std::filesystem::remove(certs.certDir() + "/tls.key");
  ClientHarness client(server.url(), certs.certDir());

  EXPECT_TRUE(eventually([&] {
    return client.status().lastError.find("tls.key: cannot read") != std::string::npos;
  })) << client.status().lastError;
  certs.writeCertDir();
  ASSERT_EQ(server.accept(), "");
  EXPECT_TRUE(server.readFrame());  // Hello
}

}  // namespace
}  // namespace meshgate::dp
