// ConfigServer over real loopback TLS and WebSocket connections, with certificates from a test
// mesh CA: what a gateway sees (the snapshot, pushes, coalescing, ACK/NACK in the registry), what
// a sidecar sees (the snapshot of the identity in its certificate), what is refused and how (TLS,
// HTTP 404/400, close frames with the reason), keepalive, credentials and stop().
#include "operator/config_server.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include "base/testing/eventually.h"

#include "api/config_stream_protocol.h"
#include "api/mesh_identity.h"
#include "operator/dataplane_registry.h"
#include "operator/snapshot_source.h"
#include "pki/certificate_authority.h"
#include "pki/certificate_template.h"
#include "pki/private_key.h"

namespace meshgate::op {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
namespace stream = api::stream;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kGatewayId = "spiffe://cluster.local/ns/meshgate-system/sa/meshgate-gateway";
constexpr const char* kOtherId = "spiffe://cluster.local/ns/default/sa/other";
constexpr const char* kCartId = "spiffe://cluster.local/ns/shop/sa/cart";
constexpr const char* kForeignCartId = "spiffe://example.org/ns/shop/sa/cart";
constexpr const char* kSidecarRefusal =
    "forbidden: a sidecar must present a workload SPIFFE ID of trust domain cluster.local";

using meshgate::testing::eventually;

template <class T>
T must(pki::Result<T> result) {
  if (!result) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}

struct Pem {
  std::string certificate;
  std::string key;
};

Pem issue(const pki::CertificateAuthority& ca, const pki::CertificateTemplate& t) {
  const auto now = std::chrono::system_clock::now();
  pki::PrivateKey key = must(pki::PrivateKey::generateEcdsaP256());
  return {must(ca.issue(t, key, now)).toPem(), must(key.toPem())};
}

// A client certificate of the mesh CA without any SPIFFE ID.
pki::CertificateTemplate clientWithoutSpiffeId() {
  pki::CertificateTemplate t;
  t.commonName = "not-a-workload";
  t.dnsNames = {"client.example.com"};
  t.clientAuth = true;
  return t;
}

// The test mesh: a CA, the server's certificate for localhost, workload identities (one of another
// trust domain, one that is no SPIFFE ID at all); and a foreign CA issuing the gateway's identity.
struct TestPki {
  TestPki()
      : ca(must(pki::CertificateAuthority::generate("meshgate-test-ca",
                                                    std::chrono::system_clock::now()))),
        foreignCa(must(
            pki::CertificateAuthority::generate("foreign-ca", std::chrono::system_clock::now()))),
        server(issue(ca, pki::CertificateTemplate::forHosts({"localhost", "127.0.0.1"}))),
        gateway(issue(ca, pki::CertificateTemplate::forWorkload(kGatewayId))),
        other(issue(ca, pki::CertificateTemplate::forWorkload(kOtherId))),
        foreignGateway(issue(foreignCa, pki::CertificateTemplate::forWorkload(kGatewayId))),
        cart(issue(ca, pki::CertificateTemplate::forWorkload(kCartId))),
        foreignTrustDomainCart(issue(ca, pki::CertificateTemplate::forWorkload(kForeignCartId))),
        noSpiffeId(issue(ca, clientWithoutSpiffeId())) {}

  ConfigServerCredentials credentials() const {
    return {server.certificate, server.key, ca.certificatePem()};
  }

  pki::CertificateAuthority ca;
  pki::CertificateAuthority foreignCa;
  Pem server;
  Pem gateway;
  Pem other;
  Pem foreignGateway;
  Pem cart;
  Pem foreignTrustDomainCart;
  Pem noSpiffeId;
};

// SnapshotSource with snapshots set by the test; publish() notifies on the caller's thread.
// Gateway snapshots are keyed by class, sidecar ones by "sidecar " + SPIFFE ID.
class FakeSnapshotSource : public SnapshotSource {
 public:
  PublishedSnapshotPtr gatewaySnapshot(const std::string& ingressClass) override {
    std::lock_guard lock(mutex_);
    const auto found = snapshots_.find(ingressClass);
    return found == snapshots_.end() ? nullptr : found->second;
  }

  PublishedSnapshotPtr sidecarSnapshot(const api::WorkloadIdentity& identity) override {
    std::lock_guard lock(mutex_);
    const auto found = snapshots_.find(sidecarKey(api::spiffeId(identity)));
    return found == snapshots_.end() ? nullptr : found->second;
  }

  SubscriptionPtr keepSidecar(const api::WorkloadIdentity& identity) override {
    std::lock_guard lock(mutex_);
    const std::string id = api::spiffeId(identity);
    kept_[id]++;
    return std::make_unique<Release>(*this, id);
  }

  static std::string sidecarKey(const std::string& spiffeId) { return "sidecar " + spiffeId; }

  // keepSidecar() handles alive for `spiffeId`.
  int kept(const std::string& spiffeId) {
    std::lock_guard lock(mutex_);
    const auto found = kept_.find(spiffeId);
    return found == kept_.end() ? 0 : found->second;
  }

  SubscriptionPtr subscribe(std::function<void()> listener) override {
    std::lock_guard lock(mutex_);
    const int id = nextId_++;
    listeners_[id] = std::move(listener);
    return std::make_unique<Unsubscribe>(*this, id);
  }

  // Sets the snapshot of `ingressClass` to `version` with `config`, then notifies.
  PublishedSnapshotPtr publish(const std::string& ingressClass, const std::string& version,
                               const std::string& configJson = R"({"routes":[]})") {
    auto snapshot = std::make_shared<const PublishedSnapshot>(
        PublishedSnapshot{version, stream::encodeSnapshotFrame(version, configJson), ""});
    std::vector<std::function<void()>> listeners;
    {
      std::lock_guard lock(mutex_);
      snapshots_[ingressClass] = snapshot;
      for (const auto& [id, listener] : listeners_)
        listeners.push_back(listener);
    }
    for (const auto& listener : listeners)
      listener();
    return snapshot;
  }

  std::size_t listeners() {
    std::lock_guard lock(mutex_);
    return listeners_.size();
  }

 private:
  class Release : public Subscription {
   public:
    Release(FakeSnapshotSource& source, std::string id) : source_(source), id_(std::move(id)) {}
    ~Release() override {
      std::lock_guard lock(source_.mutex_);
      source_.kept_[id_]--;
    }

   private:
    FakeSnapshotSource& source_;
    const std::string id_;
  };

  class Unsubscribe : public Subscription {
   public:
    Unsubscribe(FakeSnapshotSource& source, int id) : source_(source), id_(id) {}
    ~Unsubscribe() override {
      std::lock_guard lock(source_.mutex_);
      source_.listeners_.erase(id_);
    }

   private:
    FakeSnapshotSource& source_;
    const int id_;
  };

  std::mutex mutex_;
  std::map<std::string, PublishedSnapshotPtr> snapshots_;
  std::map<int, std::function<void()>> listeners_;
  std::map<std::string, int> kept_;
  int nextId_ = 0;
};

// A synchronous WebSocket-over-TLS client, as meshgate-proxy connects. Every operation runs the
// client's own io_context with a deadline.
class StreamClient {
 public:
  // `identity` null: no client certificate.
  StreamClient(const std::string& caPem, const Pem* identity) : tls_(ssl::context::tls_client) {
    tls_.add_certificate_authority(asio::buffer(caPem));
    tls_.set_verify_mode(ssl::verify_peer);
    if (identity) {
      tls_.use_certificate_chain(asio::buffer(identity->certificate));
      tls_.use_private_key(asio::buffer(identity->key), ssl::context::pem);
    }
    ws_.emplace(ioc_, tls_);
    ws_->next_layer().set_verify_callback(ssl::host_name_verification("localhost"));
    SSL_set_tlsext_host_name(ws_->next_layer().native_handle(), "localhost");
    ws_->read_message_max(stream::kMaxFrameBytes);
  }

  // TCP connect and TLS handshake.
  beast::error_code connect(unsigned short port) {
    auto& tcp = beast::get_lowest_layer(*ws_);
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    auto ec = run([&](auto handler) { tcp.async_connect(endpoint, handler); });
    if (ec) return ec;
    return run([&](auto handler) {
      ws_->next_layer().async_handshake(ssl::stream_base::client, handler);
    });
  }

  // The WebSocket upgrade; response() holds the server's answer.
  beast::error_code upgrade(std::string_view target = stream::kPath) {
    return run(
        [&](auto handler) { ws_->async_handshake(response_, "localhost", target, handler); });
  }

  // connect() then upgrade(): the first error.
  beast::error_code open(unsigned short port) {
    if (auto ec = connect(port)) return ec;
    return upgrade();
  }

  // A plain HTTP GET over the TLS connection (no upgrade); response() holds the answer.
  beast::error_code plainGet(std::string_view target) {
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "localhost");
    auto ec = run([&](auto handler) { http::async_write(ws_->next_layer(), request, handler); });
    if (ec) return ec;
    return run(
        [&](auto handler) { http::async_read(ws_->next_layer(), buffer_, response_, handler); });
  }

  beast::error_code send(const std::string& text) {
    ws_->text(true);
    return run([&](auto handler) { ws_->async_write(asio::buffer(text), handler); });
  }

  beast::error_code hello(const std::string& node, const std::string& ingressClass = "meshgate",
                          std::string_view mode = stream::kModeGateway) {
    return send(stream::encode(stream::ClientMessage{
        stream::Hello{node, std::string(mode), ingressClass, "", "test-1.0"}}));
  }

  // The next frame, or the error that ended the wait (websocket::error::closed: see reason()).
  struct Received {
    beast::error_code ec;
    std::string text;
  };
  Received receive(std::chrono::milliseconds deadline = 5s) {
    beast::flat_buffer buffer;
    auto ec = run([&](auto handler) { ws_->async_read(buffer, handler); }, deadline);
    return {ec, beast::buffers_to_string(buffer.data())};
  }

  // The version of the next Snapshot frame; "" with a failure when it is something else.
  std::string receiveVersion() {
    auto received = receive();
    if (received.ec) {
      ADD_FAILURE() << "no frame: " << received.ec.message();
      return "";
    }
    auto decoded = stream::decodeServerMessage(received.text);
    if (!decoded) {
      ADD_FAILURE() << "not a server message: " << decoded.error();
      return "";
    }
    return std::get<stream::Snapshot>(*decoded).version;
  }

  beast::error_code close() {
    return run([&](auto handler) { ws_->async_close(websocket::close_code::normal, handler); });
  }

  // Drops the TCP connection without a close frame.
  void abort() { beast::get_lowest_layer(*ws_).close(); }

  const websocket::response_type& response() const { return response_; }
  websocket::close_reason reason() const { return ws_->reason(); }
  std::string reasonText() const {
    const auto& text = ws_->reason().reason;
    return std::string(text.data(), text.size());
  }

 private:
  // Starts an operation with a handler recording its error, and runs it to completion or until
  // `deadline` (which closes the socket, so the operation ends with an error).
  template <class Start>
  beast::error_code run(Start start, std::chrono::milliseconds deadline = 5s) {
    beast::error_code result;
    bool done = false;
    beast::get_lowest_layer(*ws_).expires_after(deadline);
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run();
    if (!done) return asio::error::timed_out;
    return result;
  }

  asio::io_context ioc_;
  ssl::context tls_;
  std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> ws_;
  beast::flat_buffer buffer_;
  websocket::response_type response_;
};

class ConfigServerTest : public ::testing::Test {
 protected:
  // Starts a server with the test credentials on an ephemeral loopback port; returns the port.
  unsigned short start(ConfigServerOptions options = {}, bool withCredentials = true) {
    options.bindAddress = "127.0.0.1:0";
    options.gatewayIdentities = {kGatewayId};
    options.trustDomain = "cluster.local";
    options.threads = 2;
    server_ = std::make_unique<ConfigServer>(options, source_, registry_);
    if (withCredentials) {
      EXPECT_EQ(server_->setCredentials(pki_.credentials()), "");
    }
    auto port = server_->start();
    EXPECT_TRUE(port) << port.error();
    return port ? *port : 0;
  }

  StreamClient gatewayClient() { return StreamClient(pki_.ca.certificatePem(), &pki_.gateway); }

  // The registry's entry for `node`, if connected.
  std::optional<DataplaneState> stateOf(const std::string& node) {
    for (auto& state : registry_.list()) {
      if (state.info.node == node) return state;
    }
    return std::nullopt;
  }

  static inline const TestPki pki_;
  FakeSnapshotSource source_;
  DataplaneRegistry registry_{[](const std::string&) { return SnapshotContentsPtr(); }};
  // Declared last: stopped before the source and the registry go.
  std::unique_ptr<ConfigServer> server_;
};

TEST_F(ConfigServerTest, GatewayReceivesTheCurrentSnapshotAndItsAckIsRecorded) {
  const auto published = source_.publish("meshgate", "v1", R"({"routes":[{"name":"a"}]})");
  source_.publish("other-class", "x1");
  const unsigned short port = start();

  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  EXPECT_EQ(client.response().result(), http::status::switching_protocols);
  ASSERT_FALSE(client.hello("gateway~host-a"));

  auto received = client.receive();
  ASSERT_FALSE(received.ec) << received.ec.message();
  EXPECT_EQ(received.text, published->frame);
  ASSERT_FALSE(client.send(stream::encode(stream::ClientMessage{stream::Ack{"v1"}})));

  ASSERT_TRUE(eventually([&] {
    auto state = stateOf("gateway~host-a");
    return state && state->ackedVersion == "v1";
  }));
  const auto state = *stateOf("gateway~host-a");
  EXPECT_EQ(state.info.mode, "gateway");
  EXPECT_EQ(state.info.ingressClass, "meshgate");
  EXPECT_EQ(state.info.identity, kGatewayId);
  EXPECT_EQ(state.info.proxyVersion, "test-1.0");
  EXPECT_THAT(state.info.peer, ::testing::StartsWith("127.0.0.1:"));
  EXPECT_EQ(state.sentVersion, "v1");
  EXPECT_EQ(server_->activeConnections(), 1u);
}

TEST_F(ConfigServerTest, EmptyIngressClassMeansTheDefaultOne) {
  source_.publish("meshgate", "v1");
  source_.publish("public", "p1");
  ConfigServerOptions options;
  options.defaultIngressClass = "public";
  const unsigned short port = start(options);

  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.hello("gateway~host-a", ""));
  EXPECT_EQ(client.receiveVersion(), "p1");
  ASSERT_TRUE(eventually([&] { return stateOf("gateway~host-a").has_value(); }));
  EXPECT_EQ(stateOf("gateway~host-a")->info.ingressClass, "public");
}

TEST_F(ConfigServerTest, NewerSnapshotIsPushedAndNackIsRecorded) {
  const unsigned short port = start();
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.hello("gateway~host-a"));
  // Nothing is published yet: the gateway is registered and waits.
  ASSERT_TRUE(eventually([&] { return stateOf("gateway~host-a").has_value(); }));

  source_.publish("meshgate", "v1");
  EXPECT_EQ(client.receiveVersion(), "v1");
  ASSERT_FALSE(client.send(stream::encode(stream::ClientMessage{stream::Ack{"v1"}})));

  // Another class's snapshot is not this gateway's business; the next frame is v2.
  source_.publish("other-class", "x1");
  source_.publish("meshgate", "v2");
  EXPECT_EQ(client.receiveVersion(), "v2");
  ASSERT_FALSE(client.send(stream::encode(
      stream::ClientMessage{stream::Nack{"v2", {"routes[0]: bad regex", "routes[1]: no"}}})));

  ASSERT_TRUE(eventually([&] {
    auto state = stateOf("gateway~host-a");
    return state && state->nackedVersion == "v2";
  }));
  const auto state = *stateOf("gateway~host-a");
  EXPECT_EQ(state.ackedVersion, "v1");
  EXPECT_EQ(state.sentVersion, "v2");
  EXPECT_THAT(state.nackErrors, ::testing::ElementsAre("routes[0]: bad regex", "routes[1]: no"));
  EXPECT_EQ(registry_.nacksTotal(), 1u);
}

TEST_F(ConfigServerTest, SnapshotsPublishedQuicklyCollapseIntoTheNewest) {
  const unsigned short port = start();
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.hello("gateway~host-a"));
  ASSERT_TRUE(eventually([&] { return stateOf("gateway~host-a").has_value(); }));

  // Large enough that a write is still in flight when the next version is published.
  const std::string big = R"({"padding":")" + std::string(4 << 20, 'x') + R"("})";
  for (const char* version : {"v1", "v2", "v3"})
    source_.publish("meshgate", version, big);

  std::vector<std::string> received;
  while (received.size() < 3 && (received.empty() || received.back() != "v3"))
    received.push_back(client.receiveVersion());
  EXPECT_EQ(received.back(), "v3");
  EXPECT_TRUE(std::is_sorted(received.begin(), received.end()));
  EXPECT_EQ(std::adjacent_find(received.begin(), received.end()), received.end());
  // Nothing stale is queued behind v3: the next frame is the next version.
  source_.publish("meshgate", "v4");
  EXPECT_EQ(client.receiveVersion(), "v4");
}

TEST_F(ConfigServerTest, AWorkloadIdentityAskingForGatewayConfigIsRefused) {
  source_.publish("meshgate", "v1");
  const unsigned short port = start();
  StreamClient client(pki_.ca.certificatePem(), &pki_.other);
  // The Hello says what is asked for: the identity is judged then.
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.hello("gateway~impostor"));
  EXPECT_EQ(client.receive().ec, websocket::error::closed);
  EXPECT_EQ(client.reason().code, websocket::close_code::policy_error);
  EXPECT_EQ(client.reasonText(),
            std::string("forbidden: ") + kOtherId + " may not receive gateway config");
  EXPECT_TRUE(registry_.list().empty());
}

TEST_F(ConfigServerTest, ClientWithoutCertificateFailsTheHandshake) {
  const unsigned short port = start();
  StreamClient client(pki_.ca.certificatePem(), nullptr);
  // With TLS 1.3 the client learns of the refusal at its first read, after its handshake.
  EXPECT_TRUE(client.open(port));
  EXPECT_NE(client.response().result(), http::status::switching_protocols);
  EXPECT_TRUE(registry_.list().empty());
}

TEST_F(ConfigServerTest, CertificateFromAnotherCaFailsTheHandshake) {
  const unsigned short port = start();
  StreamClient client(pki_.ca.certificatePem(), &pki_.foreignGateway);
  EXPECT_TRUE(client.open(port));
  EXPECT_NE(client.response().result(), http::status::switching_protocols);
  EXPECT_TRUE(registry_.list().empty());
}

TEST_F(ConfigServerTest, WrongPathGets404) {
  const unsigned short port = start();
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.connect(port));
  EXPECT_EQ(client.upgrade("/v1/stream"), websocket::error::upgrade_declined);
  EXPECT_EQ(client.response().result(), http::status::not_found);
  EXPECT_THAT(client.response().body(), HasSubstr(std::string(stream::kPath)));
}

TEST_F(ConfigServerTest, RequestWithoutUpgradeGets400) {
  const unsigned short port = start();
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.connect(port));
  ASSERT_FALSE(client.plainGet(stream::kPath));
  EXPECT_EQ(client.response().result(), http::status::bad_request);
  EXPECT_THAT(client.response().body(), HasSubstr("WebSocket upgrade"));
}

TEST_F(ConfigServerTest, FirstFrameThatIsNotAHelloClosesWithTheReason) {
  source_.publish("meshgate", "v1");
  const unsigned short port = start();
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.send(stream::encode(stream::ClientMessage{stream::Ack{"v1"}})));
  EXPECT_EQ(client.receive().ec, websocket::error::closed);
  EXPECT_EQ(client.reason().code, websocket::close_code::policy_error);
  EXPECT_EQ(client.reasonText(), "the first frame must be a Hello, got Ack");
  EXPECT_TRUE(registry_.list().empty());
}

TEST_F(ConfigServerTest, MalformedFrameClosesWithTheDecodeError) {
  const unsigned short port = start();
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  // The decode error quotes the type, and is cut to what a close frame holds.
  ASSERT_FALSE(client.send(R"({"version":"v1","type":")" + std::string(300, 'y') + R"("})"));
  EXPECT_EQ(client.receive().ec, websocket::error::closed);
  EXPECT_EQ(client.reason().code, websocket::close_code::policy_error);
  EXPECT_THAT(client.reasonText(), ::testing::StartsWith("type: unknown message"));
  EXPECT_EQ(client.reason().reason.size(), 123u);
}

TEST_F(ConfigServerTest, SidecarReceivesTheSnapshotOfTheIdentityInItsCertificate) {
  const auto published =
      source_.publish(FakeSnapshotSource::sidecarKey(kCartId), "s1", R"({"mesh":{}})");
  source_.publish(FakeSnapshotSource::sidecarKey(kOtherId), "o1");
  source_.publish("meshgate", "g1");
  const unsigned short port = start();

  StreamClient client(pki_.ca.certificatePem(), &pki_.cart);
  ASSERT_FALSE(client.open(port));
  // What the Hello names does not matter: only the certificate says who this is.
  ASSERT_FALSE(client.hello("sidecar~cart-7.shop", "meshgate", stream::kModeSidecar));
  auto received = client.receive();
  ASSERT_FALSE(received.ec) << received.ec.message();
  EXPECT_EQ(received.text, published->frame);
  ASSERT_FALSE(client.send(stream::encode(stream::ClientMessage{stream::Ack{"s1"}})));
  ASSERT_TRUE(eventually([&] {
    const auto state = stateOf("sidecar~cart-7.shop");
    return state && state->ackedVersion == "s1";
  }));
  const auto state = stateOf("sidecar~cart-7.shop");
  EXPECT_EQ(state->info.mode, "sidecar");
  EXPECT_EQ(state->info.identity, kCartId);
  EXPECT_EQ(state->info.ingressClass, "") << "a sidecar serves no class";
  EXPECT_EQ(state->sentVersion, "s1");
  EXPECT_EQ(source_.kept(kCartId), 1) << "the session keeps its identity's snapshot";

  // Its identity's next version is pushed; other snapshots are not its business.
  source_.publish("meshgate", "g2");
  source_.publish(FakeSnapshotSource::sidecarKey(kCartId), "s2");
  EXPECT_EQ(client.receiveVersion(), "s2");

  ASSERT_FALSE(client.close());
  EXPECT_TRUE(eventually([&] { return registry_.list().empty(); }));
  EXPECT_TRUE(eventually([&] { return source_.kept(kCartId) == 0; }));
}

TEST_F(ConfigServerTest, SidecarsMustPresentAWorkloadIdentityOfTheTrustDomain) {
  source_.publish(FakeSnapshotSource::sidecarKey(kForeignCartId), "f1");
  source_.publish(FakeSnapshotSource::sidecarKey(kGatewayId), "x1");
  const unsigned short port = start();
  const std::vector<std::pair<const Pem*, std::string>> cases = {
      {&pki_.noSpiffeId, kSidecarRefusal},
      {&pki_.foreignTrustDomainCart, kSidecarRefusal},
      {&pki_.gateway, "forbidden: the gateway identity may not receive sidecar config"},
  };
  for (const auto& [identity, refusal] : cases) {
    StreamClient client(pki_.ca.certificatePem(), identity);
    ASSERT_FALSE(client.open(port)) << refusal;
    ASSERT_FALSE(client.hello("sidecar~pod.shop", "", stream::kModeSidecar));
    EXPECT_EQ(client.receive().ec, websocket::error::closed) << refusal;
    EXPECT_EQ(client.reason().code, websocket::close_code::policy_error);
    EXPECT_EQ(client.reasonText(), refusal);
  }
  EXPECT_TRUE(registry_.list().empty());
  EXPECT_EQ(source_.kept(kForeignCartId), 0);
  EXPECT_EQ(source_.kept(kGatewayId), 0);
}

TEST_F(ConfigServerTest, ACertificateWithoutSpiffeIdGetsNoGatewayConfig) {
  source_.publish("meshgate", "v1");
  const unsigned short port = start();
  StreamClient client(pki_.ca.certificatePem(), &pki_.noSpiffeId);
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.hello("gateway~x"));
  EXPECT_EQ(client.receive().ec, websocket::error::closed);
  EXPECT_EQ(client.reasonText(), "forbidden: no SPIFFE ID may not receive gateway config");
  EXPECT_TRUE(registry_.list().empty());
}

TEST_F(ConfigServerTest, SecondHelloClosesTheConnection) {
  const unsigned short port = start();
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.hello("gateway~host-a"));
  ASSERT_FALSE(client.hello("gateway~host-a"));
  EXPECT_EQ(client.receive().ec, websocket::error::closed);
  EXPECT_EQ(client.reason().code, websocket::close_code::policy_error);
  EXPECT_TRUE(eventually([&] { return registry_.list().empty(); }));
}

TEST_F(ConfigServerTest, NoHelloWithinTheTimeoutClosesTheConnection) {
  ConfigServerOptions options;
  options.helloTimeout = 100ms;
  const unsigned short port = start(options);
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  EXPECT_EQ(client.receive().ec, websocket::error::closed);
  EXPECT_EQ(client.reason().code, websocket::close_code::policy_error);
  EXPECT_EQ(client.reasonText(), "no Hello within 100ms");
}

TEST_F(ConfigServerTest, DisconnectingRemovesTheProxyFromTheRegistry) {
  const unsigned short port = start();
  StreamClient closing = gatewayClient();
  StreamClient aborting = gatewayClient();
  ASSERT_FALSE(closing.open(port));
  ASSERT_FALSE(closing.hello("gateway~closing"));
  ASSERT_FALSE(aborting.open(port));
  ASSERT_FALSE(aborting.hello("gateway~aborting"));
  ASSERT_TRUE(eventually([&] { return registry_.list().size() == 2; }));

  EXPECT_FALSE(closing.close());
  EXPECT_TRUE(eventually([&] { return !stateOf("gateway~closing"); }));
  aborting.abort();
  EXPECT_TRUE(eventually([&] { return registry_.list().empty(); }));
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
}

TEST_F(ConfigServerTest, SilentPeerIsDropped) {
  ConfigServerOptions options;
  options.pingInterval = 50ms;
  const unsigned short port = start(options);
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.hello("gateway~host-a"));
  ASSERT_TRUE(eventually([&] { return stateOf("gateway~host-a").has_value(); }));
  // The client reads nothing, so it never answers the server's pings.
  EXPECT_TRUE(eventually([&] { return registry_.list().empty(); }));
}

TEST_F(ConfigServerTest, AConnectionThatNeverStartsItsHandshakeIsClosedAtTheDeadline) {
  ConfigServerOptions options;
  options.handshakeTimeout = 100ms;
  const unsigned short port = start(options);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket silent(io);
  silent.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  ASSERT_TRUE(eventually([&] { return server_->activeConnections() == 1; }));
  // Not one byte of TLS from the client: the server closes it.
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
  char byte = 0;
  boost::system::error_code ec;
  silent.read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
      << ec.message();
}

TEST_F(ConfigServerTest, BrokenCredentialsAreRefusedAndThePreviousOnesKeepServing) {
  const unsigned short port = start();
  ConfigServerCredentials broken = pki_.credentials();
  broken.privateKeyPem = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  const std::string error = server_->setCredentials(broken);
  EXPECT_THAT(error, HasSubstr("private key"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("not a key")));
  ConfigServerCredentials wrongKey = pki_.credentials();
  wrongKey.privateKeyPem = pki_.other.key;
  EXPECT_NE(server_->setCredentials(wrongKey), "");
  ConfigServerCredentials noBundle = pki_.credentials();
  noBundle.trustBundlePem = "";
  EXPECT_THAT(server_->setCredentials(noBundle), HasSubstr("trust bundle"));
  EXPECT_TRUE(server_->hasCredentials());

  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.hello("gateway~host-a"));
  EXPECT_TRUE(eventually([&] { return stateOf("gateway~host-a").has_value(); }));
}

TEST_F(ConfigServerTest, NewCredentialsServeNewConnectionsAndOpenOnesStay) {
  const unsigned short port = start();
  StreamClient before = gatewayClient();
  ASSERT_FALSE(before.open(port));
  ASSERT_FALSE(before.hello("gateway~before"));
  ASSERT_TRUE(eventually([&] { return stateOf("gateway~before").has_value(); }));

  // A CA rotation to the foreign CA: its gateway certificate is trusted from now on.
  const Pem server =
      issue(pki_.foreignCa, pki::CertificateTemplate::forHosts({"localhost", "127.0.0.1"}));
  ASSERT_EQ(
      server_->setCredentials({server.certificate, server.key, pki_.foreignCa.certificatePem()}),
      "");
  StreamClient after(pki_.foreignCa.certificatePem(), &pki_.foreignGateway);
  ASSERT_FALSE(after.open(port));
  StreamClient oldCa = gatewayClient();
  EXPECT_TRUE(oldCa.open(port));

  source_.publish("meshgate", "v1");
  EXPECT_EQ(before.receiveVersion(), "v1");
}

TEST_F(ConfigServerTest, ConnectionsBeforeCredentialsAreClosed) {
  const unsigned short port = start({}, /*withCredentials=*/false);
  EXPECT_FALSE(server_->hasCredentials());
  StreamClient early = gatewayClient();
  EXPECT_TRUE(early.open(port));

  ASSERT_EQ(server_->setCredentials(pki_.credentials()), "");
  StreamClient late = gatewayClient();
  EXPECT_FALSE(late.open(port));
}

TEST_F(ConfigServerTest, StopClosesEveryConnectionAndUnsubscribes) {
  const unsigned short port = start();
  StreamClient client = gatewayClient();
  ASSERT_FALSE(client.open(port));
  ASSERT_FALSE(client.hello("gateway~host-a"));
  ASSERT_TRUE(eventually([&] { return stateOf("gateway~host-a").has_value(); }));
  EXPECT_EQ(source_.listeners(), 1u);

  server_->stop();
  EXPECT_TRUE(registry_.list().empty());
  EXPECT_EQ(server_->activeConnections(), 0u);
  EXPECT_EQ(source_.listeners(), 0u);
  EXPECT_TRUE(client.receive().ec);
  server_->stop();

  // And it starts again.
  auto restarted = server_->start();
  ASSERT_TRUE(restarted) << restarted.error();
  StreamClient again = gatewayClient();
  EXPECT_FALSE(again.open(*restarted));
}

}  // namespace
}  // namespace meshgate::op
