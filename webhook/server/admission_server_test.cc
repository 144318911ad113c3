// AdmissionServer over real loopback TLS connections, with the test CA's certificates: what the
// apiserver sees (verified TLS, HTTP/1.1, keep-alive, concurrency), what misbehaving clients get
// (400, 413, 431, deadlines, the connection cap), handler failures, certificate rotation, stop()
// and drain().
#include "webhook/server/admission_server.h"

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/testing/eventually.h"
#include "webhook/server/testing/certificate_directory.h"
#include "webhook/server/testing/tls_test_client.h"

namespace meshgate::webhook {
namespace {

namespace http = boost::beast::http;
using meshgate::testing::eventually;
using testing::CertificateDirectory;
using testing::closedByPeer;
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

// Requests to kHeldTarget wait in the handler until release(), or `holdFor` at most; others are
// echoed at once. For a request in flight while the server drains.
constexpr std::string_view kHeldTarget = "/held";

class HeldRequests {
 public:
  HttpHandler handler(std::chrono::milliseconds holdFor = 5s) {
    return [this, holdFor](const HttpRequest& request) {
      if (request.target() != kHeldTarget) return echo(request);
      std::unique_lock lock(mutex_);
      ++entered_;
      changed_.notify_all();
      changed_.wait_for(lock, holdFor, [this] { return released_; });
      return echo(request);
    };
  }

  // Waits until `count` held requests have reached the handler.
  bool waitForEntered(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return entered_ >= count; });
  }

  int entered() {
    std::lock_guard lock(mutex_);
    return entered_;
  }

  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int entered_ = 0;
  bool released_ = false;
};

class AdmissionServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = ServingCertificate::load(directory_.path());
    ASSERT_TRUE(loaded) << loaded.error();
    certificate_ = std::move(loaded).value();
  }

  // A test that fails with a request held must not leave the server's threads waiting on it.
  void TearDown() override { held_.release(); }

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

  // Runs drain() on another thread; the future holds how long it took.
  std::future<Clock::duration> drainInBackground(std::chrono::milliseconds deadline) {
    return std::async(std::launch::async, [this, deadline] {
      const auto begin = Clock::now();
      server_->drain(deadline);
      return Clock::now() - begin;
    });
  }

  // Opens a connection and has one request answered on it, so that it then waits, idle, for its
  // next request, as the apiserver's keep-alive connections do.
  void openIdle(TlsTestClient& client, unsigned short port) {
    ASSERT_FALSE(client.open(port));
    ASSERT_EQ(client.post("/mutate-v1-pod", "{}").response.result(), http::status::ok);
  }

  CertificateDirectory directory_;
  ServingCertificatePtr certificate_;
  // Declared before the server, whose handler refers to it.
  HeldRequests held_;
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

TEST_F(AdmissionServerTest, DrainLetsARequestInTheHandlerFinishWithConnectionClose) {
  const unsigned short port = start({}, held_.handler());
  TlsTestClient idle(ca());
  openIdle(idle, port);
  TlsTestClient inFlight(ca());
  ASSERT_FALSE(inFlight.open(port));
  const std::string review = R"({"request":{"uid":"in-flight"}})";
  auto exchange = std::async(std::launch::async,
                             [&] { return inFlight.post(std::string(kHeldTarget), review); });
  ASSERT_TRUE(held_.waitForEntered(1));

  auto drained = drainInBackground(10s);
  // The idle connection closing shows the drain has begun; only then may the handler return.
  EXPECT_TRUE(closedByPeer(idle.waitForClose()));
  held_.release();

  auto answered = exchange.get();
  ASSERT_FALSE(answered.ec) << answered.ec.message();
  EXPECT_EQ(answered.response.result(), http::status::ok);
  EXPECT_EQ(answered.response.body(), review);
  EXPECT_EQ(answered.response[http::field::connection], "close");
  EXPECT_TRUE(closedByPeer(inFlight.waitForClose()));
  EXPECT_LT(drained.get(), 5s);
  EXPECT_EQ(server_->activeConnections(), 0u);
}

TEST_F(AdmissionServerTest, DrainClosesAnIdleKeepAliveConnectionAtOnce) {
  const unsigned short port = start();
  TlsTestClient client(ca());
  openIdle(client, port);

  const auto drainAt = Clock::now();
  auto drained = drainInBackground(10s);
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
  EXPECT_LT(Clock::now() - drainAt, 3s);
  EXPECT_LT(drained.get(), 3s);
  EXPECT_EQ(server_->activeConnections(), 0u);

  // A second drain and a stop() afterwards do nothing.
  const auto againAt = Clock::now();
  server_->drain(10s);
  server_->stop();
  EXPECT_LT(Clock::now() - againAt, 1s);
}

TEST_F(AdmissionServerTest, DrainRefusesNewConnections) {
  const unsigned short port = start({}, held_.handler());
  // A request held in the handler keeps the drain going while the test connects.
  TlsTestClient inFlight(ca());
  ASSERT_FALSE(inFlight.open(port));
  auto exchange =
      std::async(std::launch::async, [&] { return inFlight.post(std::string(kHeldTarget), "{}"); });
  ASSERT_TRUE(held_.waitForEntered(1));
  TlsTestClient idle(ca());
  openIdle(idle, port);

  auto drained = drainInBackground(10s);
  // The listener is closed before idle connections are.
  EXPECT_TRUE(closedByPeer(idle.waitForClose()));
  TlsTestClient late(ca());
  EXPECT_TRUE(late.connect(port));

  held_.release();
  EXPECT_EQ(exchange.get().response.result(), http::status::ok);
  EXPECT_LT(drained.get(), 5s);
  EXPECT_EQ(held_.entered(), 1);
}

TEST_F(AdmissionServerTest, DrainGivesUpAtTheDeadlineOnAHandlerThatDoesNotFinish) {
  constexpr auto kDeadline = 500ms;
  // The handler outlasts the deadline by a second; what stop() does after the deadline includes
  // joining the thread it runs on, so drain() returns when it does.
  const unsigned short port = start({}, held_.handler(kDeadline + 1s));
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(port));
  auto exchange =
      std::async(std::launch::async, [&] { return client.post(std::string(kHeldTarget), "{}"); });
  ASSERT_TRUE(held_.waitForEntered(1));

  const auto drainAt = Clock::now();
  server_->drain(kDeadline);
  const auto elapsed = Clock::now() - drainAt;
  EXPECT_GE(elapsed, kDeadline);
  EXPECT_LT(elapsed, kDeadline + 3s);
  // Closed without the response the handler returned after the deadline.
  auto cut = exchange.get();
  EXPECT_TRUE(closedByPeer(cut.ec)) << cut.ec.message();
  EXPECT_EQ(server_->activeConnections(), 0u);
}

TEST_F(AdmissionServerTest, DrainAnswersARequestWhoseFirstBytesHadArrived) {
  const unsigned short port = start();
  TlsTestClient partial(ca());
  openIdle(partial, port);
  TlsTestClient idle(ca());
  openIdle(idle, port);
  const std::string review = R"({"request":{"uid":"partial"}})";
  const std::string head =
      "POST /mutate-v1-pod HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(review.size()) + "\r\n\r\n";
  ASSERT_FALSE(partial.write(head + review.substr(0, 10)));

  auto drained = drainInBackground(10s);
  EXPECT_TRUE(closedByPeer(idle.waitForClose()));
  auto exchange = partial.sendRaw(review.substr(10));
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::ok);
  EXPECT_EQ(exchange.response.body(), review);
  EXPECT_EQ(exchange.response[http::field::connection], "close");
  EXPECT_LT(drained.get(), 5s);
}

TEST_F(AdmissionServerTest, DrainServesTheFirstRequestOfAConnectionOpenedBeforeIt) {
  const unsigned short port = start();
  // The client opened it to send a request, and would not resend one that fails on it.
  TlsTestClient fresh(ca());
  ASSERT_FALSE(fresh.open(port));
  TlsTestClient idle(ca());
  openIdle(idle, port);

  auto drained = drainInBackground(10s);
  EXPECT_TRUE(closedByPeer(idle.waitForClose()));
  auto exchange = fresh.post("/mutate-v1-pod", "{}");
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::ok);
  EXPECT_EQ(exchange.response[http::field::connection], "close");
  EXPECT_LT(drained.get(), 5s);
}

TEST_F(AdmissionServerTest, ServerStartsAgainAfterADrain) {
  start();
  server_->drain(1s);
  auto port = server_->start();
  ASSERT_TRUE(port) << port.error();
  TlsTestClient client(ca());
  ASSERT_FALSE(client.open(*port));
  auto exchange = client.post("/mutate-v1-pod", "{}");
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_TRUE(exchange.response.keep_alive());
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
