// Tests of ProxyServer in gateway mode, in process: the config comes from a fake operator
// (testing/fake_config_server.h) over the real config stream client, requests go through the real
// workers to a backend on loopback, and the admin endpoint is read over HTTP. Covers applying and
// acknowledging a snapshot, refusing an invalid one while the previous one keeps serving, the
// persisted snapshot (served at start, private, replaced after an update), /ready before the first
// config, /config_dump's source without the listeners' private keys, and connections shed beyond
// limits.maxConnections.
#include "dataplane/proxy/proxy_server.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include "base/testing/eventually.h"

#include "dataplane/proxy/persisted_snapshot.h"
#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/gateway_harness.h"

namespace meshgate::dp {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace stream = api::stream;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using testing::FakeConfigServer;
using testing::GatewayHarness;
using testing::HttpResult;
using testing::snapshotFrame;
using testing::StreamCertificates;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

using meshgate::testing::eventually;

// An upstream on loopback that answers every request with 200 and `body`.
class Backend {
 public:
  explicit Backend(std::string body) : acceptor_(context_), body_(std::move(body)) {
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    asio::co_spawn(context_, acceptLoop(&acceptor_, body_), asio::detached);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~Backend() {
    context_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  static asio::awaitable<void> serve(asio::ip::tcp::socket socket, std::string body) {
    beast::tcp_stream connection(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      auto [readError, read] = co_await http::async_read(connection, buffer, request, kNoThrow);
      if (readError) co_return;
      http::response<http::string_body> response{http::status::ok, request.version()};
      response.body() = body;
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      auto [writeError, written] = co_await http::async_write(connection, response, kNoThrow);
      if (writeError || !response.keep_alive()) co_return;
    }
  }
  static asio::awaitable<void> acceptLoop(asio::ip::tcp::acceptor* acceptor, std::string body) {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
      if (ec) co_return;
      asio::co_spawn(acceptor->get_executor(), serve(std::move(socket), body), asio::detached);
    }
  }

  asio::io_context context_;
  asio::ip::tcp::acceptor acceptor_;
  std::string body_;
  std::thread thread_;
};

// A gateway config for one route for shop.example.com to the backend.
nlohmann::json gatewayConfig(const std::string& version, uint16_t backendPort) {
  return testing::shopGatewayConfig(version, "shop", 80, backendPort);
}

// A GET for shop.example.com through the gateway's http listener.
HttpResult shop(GatewayHarness& gateway) {
  return gateway.get("/", "shop.example.com");
}

stream::ClientMessage decodeClient(const std::optional<std::string>& frame) {
  if (!frame) throw std::runtime_error("no frame");
  auto message = stream::decodeClientMessage(*frame);
  if (!message) throw std::runtime_error(message.error());
  return *message;
}

TEST(ProxyServerGatewayTest, IsNotReadyUntilTheFirstConfigThenServesAndAcksIt) {
  StreamCertificates certs;
  FakeConfigServer operatorServer(certs.server(), certs.caPem());
  Backend backend("from-shop");
  GatewayHarness gateway(certs, operatorServer.url());

  const HttpResult notReady = gateway.admin("/ready");
  EXPECT_EQ(notReady.status, 503);
  EXPECT_THAT(notReady.body,
              HasSubstr("waiting for the first config from " + operatorServer.url()));

  ASSERT_EQ(operatorServer.accept(), "");
  const auto hello = decodeClient(operatorServer.readFrame());
  ASSERT_TRUE(std::holds_alternative<stream::Hello>(hello));
  EXPECT_EQ(std::get<stream::Hello>(hello).node, "gateway~test");
  EXPECT_EQ(std::get<stream::Hello>(hello).version, "");

  ASSERT_TRUE(operatorServer.send(snapshotFrame(gatewayConfig("v1", backend.port()))));
  EXPECT_EQ(decodeClient(operatorServer.readFrame()), stream::ClientMessage(stream::Ack{"v1"}));
  EXPECT_EQ(gateway.server().servingVersion(), "v1");
  EXPECT_EQ(gateway.admin("/ready").status, 200);

  const nlohmann::json dump = gateway.configDump();
  EXPECT_EQ(dump["source"]["kind"], "controlPlane");
  EXPECT_EQ(dump["source"]["url"], operatorServer.url());
  EXPECT_EQ(dump["source"]["connected"], true);
  EXPECT_TRUE(dump.contains("appliedAt"));
  EXPECT_GE(dump["ageSeconds"].get<int>(), 0);
  // --http-address replaced the streamed address and port.
  EXPECT_EQ(dump["config"]["listeners"][0]["address"], "127.0.0.1");
  EXPECT_EQ(dump["config"]["admin"]["address"], "127.0.0.1");

  const HttpResult response = shop(gateway);
  EXPECT_EQ(response.status, 200) << response.error;
  EXPECT_EQ(response.body, "from-shop");

  const std::string stats = gateway.admin("/stats").body;
  EXPECT_THAT(stats, HasSubstr("meshgate_proxy_control_plane_connected 1"));
  EXPECT_THAT(stats, HasSubstr("meshgate_proxy_config_updates_total{result=\"ack\"} 1"));
}

// A keep-alive client connection that has had one request answered: open and idle.
class IdleConnection {
 public:
  IdleConnection(uint16_t port, const std::string& host) : connection_(context_) {
    connection_.expires_after(5s);
    connection_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::empty_body> request{http::verb::get, "/", 11};
    request.set(http::field::host, host);
    http::write(connection_, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(connection_, buffer, response);
    status_ = response.result_int();
  }
  int status() const { return status_; }
  void close() { connection_.close(); }

 private:
  asio::io_context context_;
  beast::tcp_stream connection_;
  int status_ = 0;
};

TEST(ProxyServerGatewayTest, ConnectionsBeyondTheLimitAreAnswered503AndCounted) {
  StreamCertificates certs;
  FakeConfigServer operatorServer(certs.server(), certs.caPem());
  Backend backend("from-shop");
  GatewayHarness gateway(certs, operatorServer.url());
  ASSERT_EQ(operatorServer.accept(), "");
  ASSERT_TRUE(operatorServer.readFrame());  // Hello
  nlohmann::json config = gatewayConfig("v1", backend.port());
  config["limits"] = {{"maxConnections", 2}};
  ASSERT_TRUE(operatorServer.send(snapshotFrame(config)));
  ASSERT_EQ(decodeClient(operatorServer.readFrame()), stream::ClientMessage(stream::Ack{"v1"}));

  // One worker, two connections allowed: both held open, a third is shed.
  IdleConnection first(gateway.httpPort(), "shop.example.com");
  IdleConnection second(gateway.httpPort(), "shop.example.com");
  ASSERT_EQ(first.status(), 200);
  ASSERT_EQ(second.status(), 200);
  const HttpResult shed = shop(gateway);
  EXPECT_EQ(shed.status, 503) << shed.error;
  EXPECT_EQ(shed.body, "over capacity: too many connections\n");
  EXPECT_THAT(gateway.admin("/stats").body,
              HasSubstr("meshgate_proxy_downstream_connections_rejected_total{reason=\"connection_"
                        "limit\"} 1"));

  // A connection that goes frees its place.
  first.close();
  EXPECT_TRUE(eventually([&] { return shop(gateway).status == 200; }));
  EXPECT_EQ(gateway.server().servingVersion(), "v1");
}

TEST(ProxyServerGatewayTest, NacksAnInvalidSnapshotAndKeepsServingThePreviousOne) {
  StreamCertificates certs;
  FakeConfigServer operatorServer(certs.server(), certs.caPem());
  Backend backend("from-shop");
  GatewayHarness gateway(certs, operatorServer.url());

  ASSERT_EQ(operatorServer.accept(), "");
  ASSERT_TRUE(operatorServer.readFrame());  // Hello
  ASSERT_TRUE(operatorServer.send(snapshotFrame(gatewayConfig("v1", backend.port()))));
  ASSERT_EQ(decodeClient(operatorServer.readFrame()), stream::ClientMessage(stream::Ack{"v1"}));

  // A route the proxy refuses: the snapshot is ACKed without it, naming it, and the route's
  // previous form keeps serving.
  nlohmann::json badRoute = gatewayConfig("v2", backend.port());
  badRoute["routes"][0]["spec"]["hosts"] = {"changed.example.com"};
  badRoute["routes"][0]["spec"]["rules"][0]["backends"][0]["service"] = "nope";
  ASSERT_TRUE(operatorServer.send(snapshotFrame(badRoute)));
  EXPECT_EQ(decodeClient(operatorServer.readFrame()),
            stream::ClientMessage(stream::Ack{
                "v2",
                {{"shop/shop",
                  {"spec.rules[0].backends[0].service: Not found: \"nope\": no cluster of that "
                   "name"}}}}));
  EXPECT_EQ(gateway.server().servingVersion(), "v2");
  EXPECT_EQ(shop(gateway).body, "from-shop") << "the route's last good form serves on";

  // An error outside any route refuses the whole snapshot.
  nlohmann::json invalid = gatewayConfig("v3", backend.port());
  invalid["clusters"][0]["endpoints"][0]["address"] = "not-an-ip";
  ASSERT_TRUE(operatorServer.send(snapshotFrame(invalid)));
  const auto nack = decodeClient(operatorServer.readFrame());
  ASSERT_TRUE(std::holds_alternative<stream::Nack>(nack));
  EXPECT_EQ(std::get<stream::Nack>(nack).version, "v3");
  ASSERT_EQ(std::get<stream::Nack>(nack).errors.size(), 1u);
  EXPECT_THAT(
      std::get<stream::Nack>(nack).errors[0],
      ::testing::StartsWith("clusters[0].endpoints[0].address: Invalid value: \"not-an-ip\""));

  // The frame's version must be the config's.
  nlohmann::json mismatched = gatewayConfig("v3", backend.port());
  ASSERT_TRUE(operatorServer.send(
      stream::encode(stream::ServerMessage(stream::Snapshot{"v4", mismatched}))));
  const auto mismatch = decodeClient(operatorServer.readFrame());
  ASSERT_TRUE(std::holds_alternative<stream::Nack>(mismatch));
  EXPECT_THAT(std::get<stream::Nack>(mismatch).errors.at(0), HasSubstr("version mismatch"));

  EXPECT_EQ(gateway.server().servingVersion(), "v2");
  const HttpResult response = shop(gateway);
  EXPECT_EQ(response.status, 200) << response.error;
  EXPECT_EQ(response.body, "from-shop");
  const nlohmann::json dump = gateway.configDump();
  EXPECT_EQ(dump["version"], "v2");
  EXPECT_THAT(dump["lastRefused"].get<std::string>(), HasSubstr("version mismatch"));
  EXPECT_THAT(gateway.admin("/stats").body,
              HasSubstr("meshgate_proxy_config_updates_total{result=\"nack\"} 2"));

  // An identical snapshot again is just acknowledged.
  ASSERT_TRUE(operatorServer.send(snapshotFrame(gatewayConfig("v1", backend.port()))));
  EXPECT_EQ(decodeClient(operatorServer.readFrame()), stream::ClientMessage(stream::Ack{"v1"}));
}

TEST(ProxyServerGatewayTest, ServesThePersistedSnapshotBeforeTheOperatorAnswers) {
  StreamCertificates certs;
  FakeConfigServer operatorServer(certs.server(), certs.caPem());
  Backend backend("from-shop");
  const std::string snapshotFile = certs.dir() + "/snapshot.json";
  ASSERT_TRUE(
      writePersistedSnapshot(snapshotFile, gatewayConfig("p1", backend.port()).dump()).ok());

  // The operator accepts no connection yet: the gateway serves from the file.
  GatewayHarness gateway(certs, operatorServer.url(), snapshotFile);
  EXPECT_EQ(gateway.server().servingVersion(), "p1");
  EXPECT_EQ(gateway.admin("/ready").status, 200);
  nlohmann::json dump = gateway.configDump();
  EXPECT_EQ(dump["source"]["kind"], "persistedSnapshot");
  EXPECT_EQ(dump["source"]["path"], snapshotFile);
  const HttpResult response = shop(gateway);
  EXPECT_EQ(response.status, 200) << response.error;

  ASSERT_EQ(operatorServer.accept(), "");
  const auto hello = decodeClient(operatorServer.readFrame());
  ASSERT_TRUE(std::holds_alternative<stream::Hello>(hello));
  EXPECT_EQ(std::get<stream::Hello>(hello).version, "p1");

  ASSERT_TRUE(operatorServer.send(snapshotFrame(gatewayConfig("v2", backend.port()))));
  ASSERT_EQ(decodeClient(operatorServer.readFrame()), stream::ClientMessage(stream::Ack{"v2"}));
  dump = gateway.configDump();
  EXPECT_EQ(dump["source"]["kind"], "controlPlane");
  auto persisted = readPersistedSnapshot(snapshotFile);
  ASSERT_TRUE(persisted.ok()) << persisted.error();
  ASSERT_TRUE(persisted->has_value());
  EXPECT_EQ((**persisted)["version"], "v2");
  struct stat info {};
  ASSERT_EQ(::stat(snapshotFile.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(snapshotFile + ".tmp"));
}

TEST(ProxyServerGatewayTest, IgnoresACorruptPersistedSnapshot) {
  StreamCertificates certs;
  FakeConfigServer operatorServer(certs.server(), certs.caPem());
  const std::string snapshotFile = certs.dir() + "/snapshot.json";
  StreamCertificates::write(snapshotFile, "{\"version\": \"p1\", \"listeners\": [");

  GatewayHarness gateway(certs, operatorServer.url(), snapshotFile);
  EXPECT_EQ(gateway.server().servingVersion(), "");
  EXPECT_EQ(gateway.admin("/ready").status, 503);
  ASSERT_EQ(operatorServer.accept(), "");
  const auto hello = decodeClient(operatorServer.readFrame());
  ASSERT_TRUE(std::holds_alternative<stream::Hello>(hello));
  EXPECT_EQ(std::get<stream::Hello>(hello).version, "");
}

TEST(ProxyServerGatewayTest, ConfigDumpNeverShowsAListenerPrivateKey) {
  StreamCertificates certs;
  FakeConfigServer operatorServer(certs.server(), certs.caPem());
  Backend backend("from-shop");
  const std::string snapshotFile = certs.dir() + "/snapshot.json";
  GatewayHarness gateway(certs, operatorServer.url(), snapshotFile);

  const testing::PemPair listenerCertificate =
      certs.issue(pki::CertificateTemplate::forHosts({"shop.example.com"}));
  nlohmann::json config = gatewayConfig("tls-1", backend.port());
  nlohmann::json certificate = {{"certificatePem", listenerCertificate.certificatePem},
                                {"privateKeyPem", listenerCertificate.keyPem}};
  nlohmann::json https = {{"name", "https"}, {"address", "0.0.0.0"}, {"port", 8443}};
  https["tls"]["certificates"] = nlohmann::json::array({certificate});
  config["listeners"].push_back(https);
  ASSERT_EQ(operatorServer.accept(), "");
  ASSERT_TRUE(operatorServer.readFrame());  // Hello
  ASSERT_TRUE(operatorServer.send(snapshotFrame(config)));
  ASSERT_EQ(decodeClient(operatorServer.readFrame()), stream::ClientMessage(stream::Ack{"tls-1"}));

  // A line from the middle of the key's base64, and the PEM label.
  std::istringstream lines(listenerCertificate.keyPem);
  std::string line;
  std::getline(lines, line);
  std::getline(lines, line);
  ASSERT_GT(line.size(), 16u);
  const std::string dump = gateway.admin("/config_dump").body;
  EXPECT_THAT(dump, HasSubstr("<redacted>"));
  EXPECT_THAT(dump, Not(HasSubstr(line)));
  EXPECT_THAT(dump, Not(HasSubstr("PRIVATE KEY")));
  EXPECT_THAT(dump, HasSubstr("BEGIN CERTIFICATE"));  // the certificate is not a secret
  // The persisted copy keeps the key, for the gateway only.
  std::ifstream persisted(snapshotFile);
  const std::string text((std::istreambuf_iterator<char>(persisted)),
                         std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("PRIVATE KEY"));
}

}  // namespace
}  // namespace meshgate::dp
