// Tests of the sidecar's mesh data path, in process: two sidecars (a caller "web" and the
// "orders" workload it calls), each fed by its own fake operator over the config stream, with a
// substituted original-destination lookup where iptables would REDIRECT. A call goes app →
// web's outbound listener → mTLS → orders' inbound listener → the application on loopback; the
// tests check who the application sees as caller, what each side refuses (authorization, plaintext
// under Strict, a server of the wrong identity, a caller of another CA) and what passes through;
// and a gateway (testing/gateway_harness.h) calling orders over mTLS with its own identity.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "api/config_stream_protocol.h"
#include "base/testing/eventually.h"
#include "dataplane/proxy/sidecar_server.h"
#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/gateway_harness.h"
#include "dataplane/proxy/testing/http2_app.h"
#include "dataplane/proxy/testing/http_get.h"
#include "dataplane/proxy/testing/mesh_sidecar_harness.h"
#include "dataplane/proxy/testing/secret_volume.h"

namespace meshgate::dp {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace stream = api::stream;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using meshgate::testing::eventually;
using testing::FakeConfigServer;
using testing::GatewayHarness;
using testing::HttpResult;
using testing::must;
using testing::PemPair;
using testing::SecretVolume;
using testing::Sidecar;
using testing::snapshotFrame;
using testing::StreamCertificates;

constexpr const char* kWeb = testing::kWebIdentity;
constexpr const char* kOrders = testing::kOrdersIdentity;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// The cluster IP the application calls orders at, and the pod address it runs on.
const tcp::endpoint kOrdersVip(asio::ip::make_address("10.0.0.9"), 8080);
constexpr char kOrdersPodIp[] = "10.244.0.7";

// The application behind the orders sidecar: answers every request with what it was told of its
// caller — "peer=<x-meshgate-peer-identity or ->".
class PeerEchoApp {
 public:
  PeerEchoApp() : acceptor_(context_) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    asio::co_spawn(context_, acceptLoop(&acceptor_), asio::detached);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~PeerEchoApp() {
    context_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  static asio::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream connection(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      auto [readError, read] = co_await http::async_read(connection, buffer, request, kNoThrow);
      if (readError) co_return;
      http::response<http::string_body> response{http::status::ok, request.version()};
      const auto peer = request.find("x-meshgate-peer-identity");
      response.body() =
          "peer=" + (peer == request.end() ? std::string("-") : std::string(peer->value()));
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      auto [writeError, written] = co_await http::async_write(connection, response, kNoThrow);
      if (writeError || !response.keep_alive()) co_return;
    }
  }
  static asio::awaitable<void> acceptLoop(tcp::acceptor* acceptor) {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
      if (ec) co_return;
      asio::co_spawn(acceptor->get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  asio::io_context context_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// One GET / to 127.0.0.1:port with `host` and extra headers, on a connection of its own.
HttpResult get(uint16_t port, const std::string& host, const testing::HeaderList& headers = {}) {
  return testing::httpGet(port, "/", host, headers);
}

// web's and orders' configs for orders' HTTP port (testing/mesh_sidecar_harness.h).
nlohmann::json webConfig(const std::string& version, uint16_t ordersInbound, bool allowed = true,
                         const std::string& ordersIdentity = kOrders) {
  return testing::webConfig(version, kOrdersVip, ordersInbound, testing::MeshPortProtocol::kHttp,
                            allowed, ordersIdentity);
}
nlohmann::json ordersConfig(const std::string& version, uint16_t appPort, const std::string& mode,
                            std::optional<nlohmann::json> allow = std::nullopt) {
  return testing::ordersConfig(version, appPort, mode, testing::MeshPortProtocol::kHttp,
                               std::move(allow));
}

// A gateway's config as the operator streams it for a Strict MeshService: one route for
// shop.example.com to orders, whose endpoint is orders' inbound listener and whose cluster names
// the identity that endpoint must present (meshIdentity).
nlohmann::json gatewayConfig(const std::string& version, uint16_t ordersInbound,
                             const std::string& ordersIdentity = kOrders) {
  return testing::shopGatewayConfig(version, "orders", 8080, ordersInbound, ordersIdentity);
}

// Sends `config` to a gateway on `operatorServer` (accepting its stream first when `first`) and
// expects its Ack.
void serveGateway(FakeConfigServer& operatorServer, const nlohmann::json& config, bool first) {
  if (first) {
    ASSERT_EQ(operatorServer.accept(), "");
    const auto hello = stream::decodeClientMessage(operatorServer.readFrame().value_or(""));
    ASSERT_TRUE(hello && std::holds_alternative<stream::Hello>(*hello));
  }
  ASSERT_TRUE(operatorServer.send(snapshotFrame(config)));
  const auto reply = stream::decodeClientMessage(operatorServer.readFrame().value_or(""));
  ASSERT_TRUE(reply) << reply.error();
  ASSERT_TRUE(std::holds_alternative<stream::Ack>(*reply))
      << "refused: " << nlohmann::json(std::get<stream::Nack>(*reply).errors).dump();
}

class MeshSidecarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    web_.emplace(ca_, "web", ca_.issue(pki::CertificateTemplate::forWorkload(kWeb, 24h)));
    orders_.emplace(ca_, "orders", ca_.issue(pki::CertificateTemplate::forWorkload(kOrders, 24h)));
    // orders' pod: connections arrive for its application port.
    orders_->setOriginal(tcp::endpoint(asio::ip::make_address(kOrdersPodIp), app_.port()));
    // web's pod: the application calls orders' cluster IP.
    web_->setOriginal(kOrdersVip);
  }

  // The application in web's pod calls orders through web's outbound listener.
  HttpResult call(const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return get(web_->port("mesh-outbound"), "orders.shop.svc:8080", headers);
  }

  StreamCertificates ca_;
  PeerEchoApp app_;
  std::optional<Sidecar> web_;
  std::optional<Sidecar> orders_;
};

TEST_F(MeshSidecarTest, AnAllowedCallerIsServedOverMtlsAndTheAppSeesItsIdentity) {
  orders_->serve(ordersConfig("o1", app_.port(), "Strict",
                              nlohmann::json::array({{{"serviceAccount", "web"}}})));
  web_->serve(webConfig("w1", orders_->port("mesh-inbound")));

  const HttpResult response = call();
  EXPECT_EQ(response.status, 200) << response.error << response.body;
  EXPECT_EQ(response.body, std::string("peer=") + kWeb);

  // A caller cannot claim another identity: the header it sends is replaced.
  const HttpResult spoofed = call({{"x-meshgate-peer-identity", kOrders}});
  EXPECT_EQ(spoofed.body, std::string("peer=") + kWeb);
  EXPECT_THAT(orders_->adminGet("/stats").body,
              HasSubstr("meshgate_proxy_mesh_connections_total{direction=\"inbound\","
                        "handling=\"mtls\"}"));
}

TEST_F(MeshSidecarTest, AnHttp2PortIsHttp2FromSidecarToSidecarAndToTheApp) {
  // A gRPC-like application: HTTP/2 only, answering with what it was told of its caller.
  testing::Http2App grpcApp([](const http2::RequestHead& head, const std::string&) {
    std::string peer = "-";
    for (const auto& field : head.headers)
      if (field.name == "x-meshgate-peer-identity") peer = field.value;
    return "peer=" + peer + " path=" + head.path;
  });
  orders_->setOriginal(tcp::endpoint(asio::ip::make_address(kOrdersPodIp), grpcApp.port()));
  nlohmann::json orders = ordersConfig("o1", grpcApp.port(), "Strict");
  orders["mesh"]["inbound"][0]["http2"] = true;
  orders_->serve(orders);
  nlohmann::json web = webConfig("w1", orders_->port("mesh-inbound"));
  web["clusters"][0]["http2Ports"] = {8080};
  web_->serve(web);

  // The application in web's pod speaks HTTP/1.1; web's sidecar calls orders' over HTTP/2 (ALPN
  // h2 inside the mTLS), and orders' sidecar calls the application over h2c.
  const HttpResult response = call();
  EXPECT_EQ(response.status, 200) << response.error << response.body;
  EXPECT_EQ(response.body, std::string("peer=") + kWeb + " path=/");
  EXPECT_EQ(grpcApp.requests(), 1u);
  // The same once more: the multiplexed connections are reused.
  EXPECT_EQ(call().status, 200);
  EXPECT_EQ(grpcApp.requests(), 2u);
}

TEST_F(MeshSidecarTest, TheCallerSidecarRefusesAServiceItMayNotCall) {
  orders_->serve(ordersConfig("o1", app_.port(), "Strict"));
  web_->serve(webConfig("w1", orders_->port("mesh-inbound"), /*allowed=*/false));

  const HttpResult response = call();
  EXPECT_EQ(response.status, 403);
  EXPECT_THAT(response.body, HasSubstr(std::string(kWeb) + " may not call shop/orders"));
}

TEST_F(MeshSidecarTest, TheServerSidecarEnforcesItsAuthorizationToo) {
  // web's config (stale, or tampered with) says it may call; orders only admits "api".
  orders_->serve(ordersConfig("o1", app_.port(), "Strict",
                              nlohmann::json::array({{{"serviceAccount", "api"}}})));
  web_->serve(webConfig("w1", orders_->port("mesh-inbound")));

  const HttpResult response = call();
  EXPECT_EQ(response.status, 403);
  EXPECT_THAT(response.body, HasSubstr(std::string(kWeb) + " may not call shop/orders"));
  EXPECT_THAT(orders_->adminGet("/stats").body,
              HasSubstr("meshgate_proxy_mesh_denied_total{direction=\"inbound\","
                        "reason=\"authorization\"} 1"));
}

TEST_F(MeshSidecarTest, PlaintextIsRefusedUnderStrictAndServedUnderPermissive) {
  orders_->serve(ordersConfig("o1", app_.port(), "Strict"));
  const uint16_t inbound = orders_->port("mesh-inbound");
  const HttpResult strict = get(inbound, "orders");
  EXPECT_EQ(strict.status, 403);
  EXPECT_THAT(strict.body, HasSubstr("requires mutual TLS (mtls.mode Strict)"));

  orders_->serve(ordersConfig("o2", app_.port(), "Permissive"));
  const HttpResult permissive = get(inbound, "orders", {{"x-meshgate-peer-identity", kWeb}});
  EXPECT_EQ(permissive.status, 200) << permissive.error;
  // A plaintext caller has no identity, and cannot claim one.
  EXPECT_EQ(permissive.body, "peer=-");

  // Permissive with an allow list: a plaintext caller is nobody the list names.
  orders_->serve(ordersConfig("o3", app_.port(), "Permissive",
                              nlohmann::json::array({{{"serviceAccount", "web"}}})));
  EXPECT_EQ(get(inbound, "orders").status, 403);
}

TEST_F(MeshSidecarTest, AServerWithAnotherIdentityIsRefused) {
  orders_->serve(ordersConfig("o1", app_.port(), "Strict"));
  // web expects orders' endpoints to be "billing": the workload that answers is not.
  web_->serve(webConfig("w1", orders_->port("mesh-inbound"), true,
                        "spiffe://cluster.local/ns/shop/sa/billing"));
  const HttpResult response = call();
  EXPECT_EQ(response.status, 503) << response.body;
}

// A TLS client presenting `identity` to an inbound listener: the status of one request, or 0
// when the handshake or the request failed (TLS 1.3: a refused client certificate shows as an
// alert on the first read).
int statusOverTls(uint16_t port, const PemPair& identity) {
  asio::io_context context;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.use_certificate_chain(asio::buffer(identity.certificatePem));
  tls.use_private_key(asio::buffer(identity.keyPem), asio::ssl::context::pem);
  tls.set_verify_mode(asio::ssl::verify_none);  // the server's side is what is tested here
  beast::ssl_stream<beast::tcp_stream> client(context, tls);
  beast::get_lowest_layer(client).expires_after(5s);
  beast::error_code ec;
  beast::get_lowest_layer(client).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                          ec);
  if (!ec) client.handshake(asio::ssl::stream_base::client, ec);
  http::request<http::empty_body> request{http::verb::get, "/", 11};
  request.set(http::field::host, "orders");
  if (!ec) http::write(client, request, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  if (!ec) http::read(client, buffer, response, ec);
  return ec ? 0 : response.result_int();
}

TEST_F(MeshSidecarTest, ACallerCertificateOfTheMeshIsAcceptedOverTls) {
  orders_->serve(ordersConfig("o1", app_.port(), "Strict"));
  EXPECT_EQ(statusOverTls(orders_->port("mesh-inbound"),
                          ca_.issue(pki::CertificateTemplate::forWorkload(kWeb, 24h))),
            200);
}

TEST_F(MeshSidecarTest, ACallerOfAnotherCaIsRefused) {
  StreamCertificates otherCa;
  orders_->serve(ordersConfig("o1", app_.port(), "Strict"));
  EXPECT_EQ(statusOverTls(orders_->port("mesh-inbound"),
                          otherCa.issue(pki::CertificateTemplate::forWorkload(kWeb, 24h))),
            0);
}

TEST_F(MeshSidecarTest, AnExpiredCallerCertificateIsRefused) {
  orders_->serve(ordersConfig("o1", app_.port(), "Strict"));
  // Issued twelve hours ago for one hour, by the mesh's own CA.
  const PemPair expired = ca_.issueAt(pki::CertificateTemplate::forWorkload(kWeb, 1h),
                                      std::chrono::system_clock::now() - 12h);
  EXPECT_EQ(statusOverTls(orders_->port("mesh-inbound"), expired), 0);
}

TEST_F(MeshSidecarTest, OutboundTrafficOutsideTheMeshPassesThroughUnchanged) {
  orders_->serve(ordersConfig("o1", app_.port(), "Strict"));
  web_->serve(webConfig("w1", orders_->port("mesh-inbound")));
  // The application calls something that is no MeshService: its own bytes reach it.
  web_->setOriginal(tcp::endpoint(asio::ip::make_address("127.0.0.1"), app_.port()));
  const HttpResult response = get(web_->port("mesh-outbound"), "example.org",
                                  {{"x-meshgate-peer-identity", "set-by-the-app"}});
  EXPECT_EQ(response.status, 200) << response.error;
  EXPECT_EQ(response.body, "peer=set-by-the-app");
  EXPECT_THAT(web_->adminGet("/stats").body,
              HasSubstr("meshgate_proxy_mesh_connections_total{direction=\"outbound\","
                        "handling=\"passthrough\"} 1"));
}

TEST_F(MeshSidecarTest, AnAppThatCallsTheSidecarItselfIsRoutedByHost) {
  orders_->serve(ordersConfig("o1", app_.port(), "Strict"));
  web_->serve(webConfig("w1", orders_->port("mesh-inbound")));
  web_->setOriginal(std::nullopt);  // not redirected: Host decides
  const HttpResult response =
      get(web_->port("mesh-outbound"), "orders.shop.svc.cluster.local:8080");
  EXPECT_EQ(response.status, 200) << response.error << response.body;
  EXPECT_EQ(response.body, std::string("peer=") + kWeb);
  const HttpResult unknown = get(web_->port("mesh-outbound"), "billing.shop.svc:8080");
  EXPECT_EQ(unknown.status, 404);
}

TEST_F(MeshSidecarTest, AGatewayCallsAStrictServiceOverMtlsWithItsOwnIdentity) {
  // orders admits the gateway's service account (and not web): a plaintext caller would get 403.
  orders_->serve(ordersConfig("o1", app_.port(), "Strict",
                              nlohmann::json::array({{{"namespace", "meshgate-system"},
                                                      {"serviceAccount", "meshgate-gateway"}}})));
  FakeConfigServer gatewayOperator(ca_.server(), ca_.caPem());
  GatewayHarness gateway(ca_, gatewayOperator.url());
  serveGateway(gatewayOperator, gatewayConfig("g1", orders_->port("mesh-inbound")), true);

  const HttpResult response = gateway.get("/", "shop.example.com");
  EXPECT_EQ(response.status, 200) << response.error << response.body;
  EXPECT_EQ(response.body, std::string("peer=") + testing::kGatewaySpiffeId);
  EXPECT_THAT(gateway.admin("/identity").body, HasSubstr(testing::kGatewaySpiffeId));

  // The endpoint must be the workload the cluster names: orders is not web.
  serveGateway(gatewayOperator, gatewayConfig("g2", orders_->port("mesh-inbound"), kWeb), false);
  EXPECT_EQ(gateway.get("/", "shop.example.com").status, 503);
}

TEST_F(MeshSidecarTest, AGatewayTheAuthorizationDoesNotNameGets403) {
  orders_->serve(ordersConfig("o1", app_.port(), "Strict",
                              nlohmann::json::array({{{"serviceAccount", "web"}}})));
  FakeConfigServer gatewayOperator(ca_.server(), ca_.caPem());
  GatewayHarness gateway(ca_, gatewayOperator.url());
  serveGateway(gatewayOperator, gatewayConfig("g1", orders_->port("mesh-inbound")), true);
  const HttpResult response = gateway.get("/", "shop.example.com");
  EXPECT_EQ(response.status, 403) << response.error << response.body;
  EXPECT_THAT(response.body, HasSubstr(testing::kGatewaySpiffeId));
}

}  // namespace
}  // namespace meshgate::dp
