// AdmissionServer over real loopback TLS connections, with the test CA's certificates: what the
// apiserver sees (verified TLS, HTTP/1.1, keep-alive, concurrency), what misbehaving clients get
// (400, 413, 431, deadlines, the connection cap), handler failures, certificate rotation and
// stop().
#include "webhook/server/admission_server.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "webhook/server/testing/certificate_directory.h"
#include "webhook/server/testing/eventually.h"
#include "webhook/server/testing/tls_test_client.h"

namespace meshgate::webhook {
namespace {

namespace http = boost::beast::http;
using testing::CertificateDirectory;
using testing::closedByPeer;
using testing::eventually;
using ::testing::HasSubstr;
using testing::TlsTestClient;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Answers 200 with the request's body, and its target in a header.
HttpResponse echo(const HttpRequest& request) {
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, "application/json");
  response.set("X-Target", request.target());
  response.body() = request.body();
  return response;
}

class AdmissionServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = ServingCertificate::load(directory_.path());
    ASSERT_TRUE(loaded) << loaded.error();
    certificate_ = std::move(loaded).value();
  }

  // Starts a server on an ephemeral loopback port; returns the port (0 on failure).
  unsigned short start(AdmissionServerOptions options = {}, HttpHandler handler = echo) {
    options.bindAddress = "127.0.0.1:0";
    server_ = std::make_unique<AdmissionServer>(options, *certificate_, std::move(handler));
    auto port = server_->start();
    EXPECT_TRUE(port) << port.error();
    if (!port) return 0;
    EXPECT_NE(*port, 0);
    return *port;
  }

  std::string ca() const { return directory_.caPem(); }

  CertificateDirectory directory_;
  ServingCertificatePtr certificate_;
  std::unique_ptr<AdmissionServer> server_;
};

TEST_F(AdmissionServerTest, VerifiedTlsClientGetsTheHandlersResponse) {
  const unsigned short port = start();
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  EXPECT_EQ(client.peerSerialHex(), directory_.written().certificate.serialHex());

  const std::string review = R"({"kind":"AdmissionReview","request":{"uid":"42"}})";
  auto exchange = client.post("/mutate-v1-pod", review);
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::ok);
  EXPECT_EQ(exchange.response.body(), review);
  EXPECT_EQ(exchange.response["X-Target"], "/mutate-v1-pod");
  EXPECT_EQ(exchange.response[http::field::content_length], std::to_string(review.size()));
  EXPECT_TRUE(exchange.response.keep_alive());
}

TEST_F(AdmissionServerTest, CertificateMatchesTheIpSanAndNotOtherNames) {
  const unsigned short port = start();
  TlsTestClient byAddress(ca(), "127.0.0.1");
  ASSERT_FALSE(byAddress.open(port));
  EXPECT_EQ(byAddress.post("/validate", "{}").response.result(), http::status::ok);

  TlsTestClient wrongName(ca(), "webhook.example.com");
  ASSERT_FALSE(wrongName.connect(port));
  EXPECT_TRUE(wrongName.handshake());
}

TEST_F(AdmissionServerTest, AlpnSelectsHttp11EvenWhenTheClientPrefersH2) {
  const unsigned short port = start();
  TlsTestClient both(ca(), "localhost", {"h2", "http/1.1"});
  ASSERT_FALSE(both.open(port));
  EXPECT_EQ(both.negotiatedAlpn(), "http/1.1");

  // A client offering only h2 gets no ALPN and may still speak HTTP/1.1.
  TlsTestClient h2Only(ca(), "localhost", {"h2"});
  ASSERT_FALSE(h2Only.open(port));
  EXPECT_EQ(h2Only.negotiatedAlpn(), "");
  EXPECT_EQ(h2Only.post("/mutate-v1-pod", "{}").response.result(), http::status::ok);
}

TEST_F(AdmissionServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  const unsigned short port = start();
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  for (int i = 0; i < 5; ++i) {
    const std::string body = "{\"request\":" + std::to_string(i) + "}";
    auto exchange = client.post("/mutate-v1-pod", body);
    ASSERT_FALSE(exchange.ec) << "request " << i << ": " << exchange.ec.message();
    EXPECT_EQ(exchange.response.body(), body);
    EXPECT_TRUE(exchange.response.keep_alive());
  }
  EXPECT_EQ(server_->activeConnections(), 1u);
}

TEST_F(AdmissionServerTest, FiftyConcurrentConnectionsAreAllAnswered) {
  constexpr int kConnections = 50;
  // The first request in the handler waits (up to 2 s) for a second one to join it: with several
  // server threads that happens at once, with one it never does.
  std::mutex mutex;
  std::condition_variable joined;
  int inside = 0;
  bool overlapped = false;
  bool waited = false;
  const unsigned short port = start({}, [&](const HttpRequest& request) {
    std::unique_lock lock(mutex);
    if (++inside >= 2) {
      overlapped = true;
      joined.notify_all();
    }
    if (!waited) {
      waited = true;
      joined.wait_for(lock, 2s, [&] { return overlapped; });
    }
    --inside;
    return echo(request);
  });

  std::vector<std::unique_ptr<TlsTestClient>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<TlsTestClient>(ca()));
    ASSERT_FALSE(clients.back()->open(port)) << "connection " << i;
  }
  EXPECT_EQ(server_->activeConnections(), static_cast<std::size_t>(kConnections));

  std::vector<TlsTestClient::Exchange> exchanges(kConnections);
  std::vector<std::thread> threads;
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&, i] {
      exchanges[i] = clients[i]->post("/mutate-v1-pod", "{\"client\":" + std::to_string(i) + "}");
    });
  }
  for (auto& thread : threads)
    thread.join();
  for (int i = 0; i < kConnections; ++i) {
    ASSERT_FALSE(exchanges[i].ec) << "client " << i << ": " << exchanges[i].ec.message();
    EXPECT_EQ(exchanges[i].response.result(), http::status::ok);
    EXPECT_EQ(exchanges[i].response.body(), "{\"client\":" + std::to_string(i) + "}");
  }
  // The default two threads ran the handler at the same time.
  std::lock_guard lock(mutex);
  EXPECT_TRUE(overlapped);
}

TEST_F(AdmissionServerTest, MalformedRequestIsAnswered400AndClosed) {
  std::atomic<int> calls = 0;
  const unsigned short port = start({}, [&](const HttpRequest& request) {
    ++calls;
    return echo(request);
  });
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  auto exchange = client.sendRaw("NOT HTTP AT ALL\r\n\r\n");
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::bad_request);
  EXPECT_FALSE(exchange.response.keep_alive());
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(AdmissionServerTest, OversizedBodyIsAnswered413AndClosed) {
  std::atomic<int> calls = 0;
  const unsigned short port = start({.maxBodyBytes = 1024}, [&](const HttpRequest& request) {
    ++calls;
    return echo(request);
  });
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  auto exchange = client.post("/mutate-v1-pod", std::string(256 * 1024, 'x'));
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::payload_too_large);
  EXPECT_THAT(exchange.response.body(), HasSubstr("1024 bytes"));
  EXPECT_FALSE(exchange.response.keep_alive());
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
  EXPECT_EQ(calls.load(), 0);

  // A body at the limit is accepted.
  TlsTestClient atLimit(ca());
  ASSERT_FALSE(atLimit.open(port));
  EXPECT_EQ(atLimit.post("/mutate-v1-pod", std::string(1024, 'x')).response.result(),
            http::status::ok);
}

TEST_F(AdmissionServerTest, OversizedHeaderIsAnswered431AndClosed) {
  const unsigned short port = start();
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  auto exchange = client.sendRaw("POST /mutate-v1-pod HTTP/1.1\r\nHost: localhost\r\nX-Padding: " +
                                 std::string(32 * 1024, 'p') + "\r\n\r\n");
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::request_header_fields_too_large);
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
}

TEST_F(AdmissionServerTest, ClientThatNeverHandshakesIsClosedAfterTheHandshakeTimeout) {
  constexpr auto kHandshakeTimeout = 200ms;
  const unsigned short port = start({.handshakeTimeout = kHandshakeTimeout});
  TlsTestClient silent(ca());
  const auto connectedAt = Clock::now();
  ASSERT_FALSE(silent.connect(port));

  // Others are served meanwhile.
  TlsTestClient other(ca());
  ASSERT_FALSE(other.open(port));
  EXPECT_EQ(other.post("/mutate-v1-pod", "{}").response.result(), http::status::ok);

  EXPECT_TRUE(closedByPeer(silent.waitForClose()));
  EXPECT_GE(Clock::now() - connectedAt, kHandshakeTimeout);
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 1; }));
}

TEST_F(AdmissionServerTest, IdleKeepAliveConnectionIsClosedAfterTheReadTimeout) {
  const unsigned short port = start({.readTimeout = 200ms});
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  ASSERT_EQ(client.post("/mutate-v1-pod", "{}").response.result(), http::status::ok);
  const auto answeredAt = Clock::now();
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
  EXPECT_GE(Clock::now() - answeredAt, 150ms);
  EXPECT_TRUE(eventually([&] { return server_->activeConnections() == 0; }));
}

TEST_F(AdmissionServerTest, ConnectionCloseIsHonoured) {
  const unsigned short port = start();
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  auto exchange = client.post("/mutate-v1-pod", "{}", /*keepAlive=*/false);
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::ok);
  EXPECT_FALSE(exchange.response.keep_alive());
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
}

TEST_F(AdmissionServerTest, HandlerExceptionIsAnswered500AndServingContinues) {
  const unsigned short port = start({}, [](const HttpRequest& request) {
    if (request.target() == "/boom") throw std::runtime_error("handler bug");
    return echo(request);
  });
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  auto failed = client.post("/boom", "{}");
  ASSERT_FALSE(failed.ec) << failed.ec.message();
  EXPECT_EQ(failed.response.result(), http::status::internal_server_error);
  EXPECT_EQ(failed.response.body(), "internal server error\n");
  EXPECT_TRUE(failed.response.keep_alive());

  auto next = client.post("/mutate-v1-pod", "{}");
  ASSERT_FALSE(next.ec) << next.ec.message();
  EXPECT_EQ(next.response.result(), http::status::ok);
}

TEST_F(AdmissionServerTest, ConnectionsBeyondTheLimitAreClosedAtAccept) {
  const unsigned short port = start({.maxConnections = 1});
  TlsTestClient first(ca());
  ASSERT_FALSE(first.open(port));

  TlsTestClient second(ca());
  ASSERT_FALSE(second.connect(port));
  EXPECT_TRUE(closedByPeer(second.waitForClose()));

  EXPECT_EQ(first.post("/mutate-v1-pod", "{}").response.result(), http::status::ok);
}

TEST_F(AdmissionServerTest, NewConnectionsGetAReloadedCertificateWhileOpenOnesKeepWorking) {
  const unsigned short port = start();
  TlsTestClient before(ca());
  ASSERT_FALSE(before.open(port));
  const std::string oldSerial = directory_.written().certificate.serialHex();
  EXPECT_EQ(before.peerSerialHex(), oldSerial);
  ASSERT_EQ(before.post("/mutate-v1-pod", "{}").response.result(), http::status::ok);

  const auto next = directory_.issue();
  directory_.write(next);
  auto reloaded = certificate_->reload();
  ASSERT_TRUE(reloaded) << reloaded.error();

  TlsTestClient after(ca());
  ASSERT_FALSE(after.open(port));
  EXPECT_EQ(after.peerSerialHex(), next.certificate.serialHex());
  EXPECT_NE(after.peerSerialHex(), oldSerial);
  EXPECT_EQ(after.post("/mutate-v1-pod", "{}").response.result(), http::status::ok);

  auto stillOpen = before.post("/mutate-v1-pod", "{\"after\":\"reload\"}");
  ASSERT_FALSE(stillOpen.ec) << stillOpen.ec.message();
  EXPECT_EQ(stillOpen.response.result(), http::status::ok);
  EXPECT_EQ(before.peerSerialHex(), oldSerial);
}

TEST_F(AdmissionServerTest, MismatchedPairIsRefusedAndTheOldCertificateKeepsServing) {
  const unsigned short port = start();
  const std::string oldSerial = directory_.written().certificate.serialHex();
  directory_.writeCertificate(directory_.issue().certificatePem);
  EXPECT_FALSE(certificate_->reload());

  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  EXPECT_EQ(client.peerSerialHex(), oldSerial);
  EXPECT_EQ(client.post("/mutate-v1-pod", "{}").response.result(), http::status::ok);
}

TEST_F(AdmissionServerTest, StopClosesOpenConnectionsPromptly) {
  const unsigned short port = start();  // default 10 s deadlines: stop() must not wait for them
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  ASSERT_EQ(client.post("/mutate-v1-pod", "{}").response.result(), http::status::ok);

  const auto stopAt = Clock::now();
  server_->stop();
  EXPECT_LT(Clock::now() - stopAt, 1s);
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
  EXPECT_EQ(server_->activeConnections(), 0u);

  TlsTestClient late(ca());
  EXPECT_TRUE(late.connect(port));  // nothing listens any more
}

TEST_F(AdmissionServerTest, StartReportsWhyItCannotListen) {
  AdmissionServer malformed({.bindAddress = "nonsense"}, *certificate_, echo);
  auto refused = malformed.start();
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error(), HasSubstr("nonsense"));

  const unsigned short port = start();
  auto again = server_->start();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), "admission server already started");

  AdmissionServer busy({.bindAddress = "127.0.0.1:" + std::to_string(port)}, *certificate_, echo);
  auto bindFailed = busy.start();
  ASSERT_FALSE(bindFailed);
  EXPECT_THAT(bindFailed.error(), HasSubstr("bind"));
}

}  // namespace
}  // namespace meshgate::webhook
