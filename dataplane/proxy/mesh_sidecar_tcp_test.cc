// Tests of the sidecar's mesh TCP ports, in process: two sidecars ("web" calling "orders"), each
// fed by its own fake operator, with a substituted original-destination lookup
// (testing/mesh_sidecar_harness.h). The application in web's pod connects to orders' cluster IP at
// a TCP port; the bytes go app → web's outbound listener → mTLS → orders' inbound listener → an
// echo server on loopback, and back. The tests check the bytes (exact, with the half-close passed
// on through both sidecars), the idle timeout, which handling each side counted, and what each
// side refuses: a caller its authorization does not admit (either side), plaintext under Strict,
// a server of the wrong identity.
#include <chrono>
#include <optional>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "base/testing/eventually.h"
#include "dataplane/proxy/testing/echo_server.h"
#include "dataplane/proxy/testing/mesh_sidecar_harness.h"
#include "dataplane/proxy/testing/tcp_client.h"

namespace meshgate::dp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using meshgate::testing::eventually;
using testing::EchoServer;
using testing::Sidecar;
using testing::StreamCertificates;
using testing::TcpClient;

constexpr const char* kWeb = testing::kWebIdentity;
constexpr const char* kOrders = testing::kOrdersIdentity;
// orders' cluster IP and TCP port as the application calls it, and the pod address it runs on.
const tcp::endpoint kOrdersDb(asio::ip::make_address("10.0.0.9"), 5432);
constexpr char kOrdersPodIp[] = "10.244.0.7";

// web's and orders' configs for orders' TCP port (testing/mesh_sidecar_harness.h).
nlohmann::json webConfig(const std::string& version, uint16_t ordersInbound, bool allowed = true,
                         const std::string& ordersIdentity = kOrders) {
  return testing::webConfig(version, kOrdersDb, ordersInbound, testing::MeshPortProtocol::kTcp,
                            allowed, ordersIdentity);
}
nlohmann::json ordersConfig(const std::string& version, uint16_t appPort, const std::string& mode,
                            std::optional<nlohmann::json> allow = std::nullopt) {
  return testing::ordersConfig(version, appPort, mode, testing::MeshPortProtocol::kTcp,
                               std::move(allow));
}

std::string randomBytes(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string out(size, '\0');
  for (auto& c : out)
    c = static_cast<char>(random());
  return out;
}

// Whether /stats of `sidecar` has `series` (a full series name with labels) at `value` or more.
bool statReaches(Sidecar& sidecar, const std::string& series, double value) {
  return eventually([&] {
    const std::string stats = sidecar.adminGet("/stats").body;
    const size_t at = stats.find(series + " ");
    return at != std::string::npos && std::stod(stats.substr(at + series.size() + 1)) >= value;
  });
}

// The value of `series` in /stats of `sidecar` now; 0 when absent.
double statOrZero(Sidecar& sidecar, const std::string& series) {
  const std::string stats = sidecar.adminGet("/stats").body;
  const size_t at = stats.find(series + " ");
  return at == std::string::npos ? 0 : std::stod(stats.substr(at + series.size() + 1));
}

std::string meshConnections(const std::string& direction, const std::string& handling) {
  return "meshgate_proxy_mesh_connections_total{direction=\"" + direction + "\",handling=\"" +
         handling + "\"}";
}

std::string meshDenied(const std::string& direction, const std::string& reason) {
  return "meshgate_proxy_mesh_denied_total{direction=\"" + direction + "\",reason=\"" + reason +
         "\"}";
}

class MeshSidecarTcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    web_.emplace(ca_, "web", ca_.issue(pki::CertificateTemplate::forWorkload(kWeb, 24h)));
    orders_.emplace(ca_, "orders", ca_.issue(pki::CertificateTemplate::forWorkload(kOrders, 24h)));
    // orders' pod: connections arrive for its application's port; web's: for orders' cluster IP.
    orders_->setOriginal(tcp::endpoint(asio::ip::make_address(kOrdersPodIp), echo_.port()));
    web_->setOriginal(kOrdersDb);
  }

  // The application in web's pod connects to orders' cluster IP (captured by web's sidecar).
  std::unique_ptr<TcpClient> connect() {
    return std::make_unique<TcpClient>(web_->port("mesh-outbound"));
  }

  // Sends `bytes` and reads as many back; what came back.
  static std::string roundTrip(TcpClient& client, const std::string& bytes) {
    if (!client.send(bytes)) return "(send failed)";
    return client.read(bytes.size());
  }

  StreamCertificates ca_;
  EchoServer echo_;
  std::optional<Sidecar> web_;
  std::optional<Sidecar> orders_;
};

TEST_F(MeshSidecarTcpTest, BytesGoOverMtlsBothWaysExactlyWithTheHalfClosePassedOn) {
  orders_->serve(ordersConfig("o1", echo_.port(), "Strict",
                              nlohmann::json::array({{{"serviceAccount", "web"}}})));
  web_->serve(webConfig("w1", orders_->port("mesh-inbound")));

  auto client = connect();
  ASSERT_TRUE(client->connected());
  const std::string sent = randomBytes(1 << 20, 7);
  std::string received;
  for (size_t offset = 0; offset < sent.size(); offset += 64 * 1024) {
    received += roundTrip(*client, sent.substr(offset, 64 * 1024));
    ASSERT_EQ(received.size(), offset + std::min<size_t>(64 * 1024, sent.size() - offset))
        << "the echo stalled";
  }
  EXPECT_TRUE(received == sent) << "the bytes came back changed";
  // The half-close crosses both sidecars (close_notify between them) to the echo server, whose
  // close comes back as the end of stream.
  client->shutdownSend();
  std::string rest;
  EXPECT_TRUE(client->awaitClose(5s, &rest));
  EXPECT_EQ(rest, "");
  EXPECT_EQ(echo_.accepted(), 1u);

  EXPECT_TRUE(statReaches(*web_, meshConnections("outbound", "tcp"), 1));
  EXPECT_TRUE(statReaches(*orders_, meshConnections("inbound", "tcp-mtls"), 1))
      << "orders saw the call over mTLS";
  EXPECT_TRUE(statReaches(*web_,
                          "meshgate_proxy_tcp_bytes_total{listener=\"outbound|shop/orders|5432\","
                          "direction=\"downstream_to_upstream\"}",
                          static_cast<double>(sent.size())));
  EXPECT_TRUE(statReaches(*orders_,
                          "meshgate_proxy_tcp_bytes_total{listener=\"inbound|" +
                              std::to_string(echo_.port()) +
                              "\",direction=\"upstream_to_downstream\"}",
                          static_cast<double>(sent.size())));
}

TEST_F(MeshSidecarTcpTest, TheServerSidecarClosesAConnectionIdleForItsIdleTimeout) {
  nlohmann::json orders = ordersConfig("o1", echo_.port(), "Strict",
                                       nlohmann::json::array({{{"serviceAccount", "web"}}}));
  orders["timeouts"]["idle"] = "300ms";  // web keeps its default (minutes)
  orders_->serve(orders);
  web_->serve(webConfig("w1", orders_->port("mesh-inbound")));

  auto client = connect();
  ASSERT_TRUE(client->connected());
  EXPECT_EQ(roundTrip(*client, "still there?"), "still there?");
  // Nothing moves: orders' relay closes both its connections, and web's passes the end on.
  const auto quiet = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->awaitClose(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - quiet, 250ms) << "closed before it was idle";
}

TEST_F(MeshSidecarTcpTest, TheServerSidecarClosesACallerItsAuthorizationDoesNotAdmit) {
  orders_->serve(ordersConfig("o1", echo_.port(), "Strict",
                              nlohmann::json::array({{{"serviceAccount", "billing"}}})));
  web_->serve(webConfig("w1", orders_->port("mesh-inbound")));

  auto client = connect();
  ASSERT_TRUE(client->connected());
  ASSERT_TRUE(client->send("hello"));
  std::string rest;
  EXPECT_TRUE(client->awaitClose(5s, &rest)) << "the connection stayed open";
  EXPECT_EQ(rest, "") << "no byte reached the application and came back";
  EXPECT_EQ(echo_.accepted(), 0u);
  EXPECT_TRUE(statReaches(*orders_, meshDenied("inbound", "authorization"), 1));
}

TEST_F(MeshSidecarTcpTest, TheCallerSidecarClosesAServiceItMayNotCall) {
  orders_->serve(ordersConfig("o1", echo_.port(), "Strict"));
  web_->serve(webConfig("w1", orders_->port("mesh-inbound"), /*allowed=*/false));

  auto client = connect();
  ASSERT_TRUE(client->connected());
  EXPECT_TRUE(client->awaitClose(5s)) << "the connection stayed open";
  EXPECT_TRUE(statReaches(*web_, meshDenied("outbound", "authorization"), 1));
  EXPECT_TRUE(statReaches(*web_, meshConnections("outbound", "refused"), 1));
  EXPECT_EQ(echo_.accepted(), 0u);
}

TEST_F(MeshSidecarTcpTest, PlaintextIsClosedUnderStrictAndRelayedUnderPermissive) {
  orders_->serve(ordersConfig("o1", echo_.port(), "Strict"));
  const uint16_t inbound = orders_->port("mesh-inbound");
  {
    // A caller without a sidecar connects to orders' pod directly, in plaintext.
    TcpClient plain(inbound);
    ASSERT_TRUE(plain.connected());
    ASSERT_TRUE(plain.send("hello"));
    std::string rest;
    EXPECT_TRUE(plain.awaitClose(5s, &rest));
    EXPECT_EQ(rest, "");
    EXPECT_TRUE(statReaches(*orders_, meshDenied("inbound", "plaintext"), 1));
    EXPECT_EQ(echo_.accepted(), 0u);
  }
  orders_->serve(ordersConfig("o2", echo_.port(), "Permissive"));
  TcpClient plain(inbound);
  ASSERT_TRUE(plain.connected());
  EXPECT_EQ(roundTrip(plain, "hello"), "hello");
  EXPECT_TRUE(statReaches(*orders_, meshConnections("inbound", "tcp-plaintext"), 1));

  // Permissive with an authorization list: a plaintext caller has no identity to admit.
  orders_->serve(ordersConfig("o3", echo_.port(), "Permissive",
                              nlohmann::json::array({{{"serviceAccount", "web"}}})));
  TcpClient refused(inbound);
  ASSERT_TRUE(refused.connected());
  ASSERT_TRUE(refused.send("hello"));
  std::string rest;
  EXPECT_TRUE(refused.awaitClose(5s, &rest));
  EXPECT_EQ(rest, "");
  EXPECT_TRUE(statReaches(*orders_, meshDenied("inbound", "plaintext"), 2));
}

TEST_F(MeshSidecarTcpTest, AServerWithAnotherIdentityGetsNoByte) {
  orders_->serve(ordersConfig("o1", echo_.port(), "Strict"));
  // web expects another workload behind orders' cluster IP than the one that answers.
  web_->serve(webConfig("w1", orders_->port("mesh-inbound"), true,
                        "spiffe://cluster.local/ns/shop/sa/impostor"));

  auto client = connect();
  ASSERT_TRUE(client->connected());
  ASSERT_TRUE(client->send("secret"));
  std::string rest;
  EXPECT_TRUE(client->awaitClose(5s, &rest));
  EXPECT_EQ(rest, "");
  EXPECT_TRUE(statReaches(*web_,
                          "meshgate_proxy_tcp_connections_total{listener=\"outbound|shop/orders|"
                          "5432\",result=\"connect_failed\"}",
                          1));
  EXPECT_THAT(web_->adminGet("/stats").body,
              Not(HasSubstr("meshgate_proxy_tcp_connections_total{listener=\"outbound|shop/"
                            "orders|5432\",result=\"proxied\"} 1")));
  // orders' sidecar took web's certificate and may have opened the application's connection, but
  // web sent nothing to a server that is not orders: no byte went to the application.
  EXPECT_EQ(statOrZero(*orders_, "meshgate_proxy_tcp_bytes_total{listener=\"inbound|" +
                                     std::to_string(echo_.port()) +
                                     "\",direction=\"downstream_to_upstream\"}"),
            0.0);
}

}  // namespace
}  // namespace meshgate::dp
