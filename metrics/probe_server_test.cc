// ProbeServer over real loopback sockets: routes, keep-alive, deadlines, limits and stop().
#include "metrics/probe_server.h"

#include <atomic>
#include <chrono>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "metrics/text_format.h"

namespace metrics {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Bounds every client operation, so a broken server fails a test instead of hanging it.
constexpr auto kClientDeadline = 5s;

// An HTTP client whose calls block until the exchange is done or kClientDeadline passes.
class TestClient {
 public:
  struct Exchange {
    beast::error_code ec;
    http::response<http::string_body> response;
  };

  beast::error_code connect(unsigned short port) {
    beast::error_code result;
    stream_.expires_after(kClientDeadline);
    stream_.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [&](beast::error_code ec) { result = ec; });
    run();
    return result;
  }

  Exchange request(http::verb method, std::string target, bool keepAlive = true) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.keep_alive(keepAlive);
    request.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.skip(method == http::verb::head);

    Exchange out;
    stream_.expires_after(kClientDeadline);
    http::async_write(stream_, request, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        out.ec = ec;
        return;
      }
      http::async_read(stream_, buffer_, parser,
                       [&](beast::error_code readError, std::size_t) { out.ec = readError; });
    });
    run();
    if (!out.ec) out.response = parser.release();
    return out;
  }

  Exchange get(std::string target) { return request(http::verb::get, std::move(target)); }

  beast::error_code writeRaw(std::string_view bytes) {
    beast::error_code result;
    stream_.expires_after(kClientDeadline);
    asio::async_write(stream_, asio::buffer(bytes),
                      [&](beast::error_code ec, std::size_t) { result = ec; });
    run();
    return result;
  }

  // Reads until the server closes the connection; returns how the read ended (eof for a clean
  // close, beast::error::timeout if the server kept the connection open past the deadline).
  beast::error_code waitForClose() {
    beast::error_code result;
    stream_.expires_after(kClientDeadline);
    readUntilClosed(result);
    run();
    return result;
  }

 private:
  void readUntilClosed(beast::error_code& result) {
    stream_.async_read_some(buffer_.prepare(4096), [&](beast::error_code ec, std::size_t n) {
      buffer_.commit(n);
      if (ec) {
        result = ec;
        return;
      }
      readUntilClosed(result);
    });
  }

  void run() {
    ioc_.restart();
    ioc_.run();
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
};

bool closedByPeer(beast::error_code ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

unsigned short startOnEphemeralPort(ProbeServer& server) {
  auto port = server.start("127.0.0.1:0");
  EXPECT_TRUE(port) << port.error();
  if (!port) return 0;
  EXPECT_NE(*port, 0);
  return *port;
}

TEST(ProbeServerTest, HealthzIsOkOnAnEphemeralPort) {
  ProbeServer server({});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));
  auto exchange = client.get("/healthz");
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::ok);
  EXPECT_EQ(exchange.response.body(), "ok");
}

TEST(ProbeServerTest, ReadyzTurnsReadyWhenTheCallbackFlips) {
  std::atomic<bool> synced = false;
  ProbeServer server({.routes = {.readiness = [&] {
                        return synced ? HealthStatus{} : HealthStatus{false, "caches not synced"};
                      }}});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));

  auto notReady = client.get("/readyz");
  ASSERT_FALSE(notReady.ec) << notReady.ec.message();
  EXPECT_EQ(notReady.response.result(), http::status::service_unavailable);
  EXPECT_EQ(notReady.response.body(), "caches not synced");

  synced = true;
  auto ready = client.get("/readyz");
  ASSERT_FALSE(ready.ec) << ready.ec.message();
  EXPECT_EQ(ready.response.result(), http::status::ok);
  EXPECT_EQ(ready.response.body(), "ok");
}

TEST(ProbeServerTest, MetricsServesTheTextFormat) {
  Registry registry;
  registry.counter("meshgate_reconcile_total", "Reconciles", {"controller", "result"})
      .with({"meshservice", "success"})
      .inc(4);
  ProbeServer server({.routes = {.registry = &registry}});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));

  auto exchange = client.get("/metrics");
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::ok);
  EXPECT_EQ(exchange.response[http::field::content_type],
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(exchange.response.body(),
            "# HELP meshgate_reconcile_total Reconciles\n"
            "# TYPE meshgate_reconcile_total counter\n"
            "meshgate_reconcile_total{controller=\"meshservice\",result=\"success\"} 4\n");
}

TEST(ProbeServerTest, UnknownPathIsNotFoundAndOtherMethodsAreNotAllowed) {
  ProbeServer server({});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));

  auto missing = client.get("/debug/pprof");
  ASSERT_FALSE(missing.ec) << missing.ec.message();
  EXPECT_EQ(missing.response.result(), http::status::not_found);

  auto post = client.request(http::verb::post, "/healthz");
  ASSERT_FALSE(post.ec) << post.ec.message();
  EXPECT_EQ(post.response.result(), http::status::method_not_allowed);
  EXPECT_EQ(post.response[http::field::allow], "GET, HEAD");

  auto head = client.request(http::verb::head, "/healthz");
  ASSERT_FALSE(head.ec) << head.ec.message();
  EXPECT_EQ(head.response.result(), http::status::ok);
}

TEST(ProbeServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  ProbeServer server({});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));
  for (int i = 0; i < 5; ++i) {
    auto exchange = client.get(i % 2 == 0 ? "/healthz" : "/readyz");
    ASSERT_FALSE(exchange.ec) << "request " << i << ": " << exchange.ec.message();
    EXPECT_EQ(exchange.response.result(), http::status::ok);
    EXPECT_TRUE(exchange.response.keep_alive());
  }
}

TEST(ProbeServerTest, ConnectionCloseIsHonoured) {
  ProbeServer server({});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));
  auto exchange = client.request(http::verb::get, "/healthz", /*keepAlive=*/false);
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_FALSE(exchange.response.keep_alive());
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
}

TEST(ProbeServerTest, SilentClientIsClosedAfterTheReadDeadlineWhileOthersAreServed) {
  constexpr auto kReadTimeout = 300ms;
  ProbeServer server({.readTimeout = kReadTimeout});
  const unsigned short port = startOnEphemeralPort(server);

  TestClient silent;
  const auto connectedAt = Clock::now();
  ASSERT_FALSE(silent.connect(port));

  TestClient other;
  ASSERT_FALSE(other.connect(port));
  auto exchange = other.get("/healthz");
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::ok);
  // Served while the silent client still held its connection.
  EXPECT_LT(Clock::now() - connectedAt, kReadTimeout);

  EXPECT_TRUE(closedByPeer(silent.waitForClose()));
  EXPECT_GE(Clock::now() - connectedAt, kReadTimeout);
}

TEST(ProbeServerTest, ClientTricklingAPartialRequestIsClosedAfterTheReadDeadline) {
  constexpr auto kReadTimeout = 200ms;
  ProbeServer server({.readTimeout = kReadTimeout});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  const auto connectedAt = Clock::now();
  ASSERT_FALSE(client.connect(port));
  ASSERT_FALSE(client.writeRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
  EXPECT_GE(Clock::now() - connectedAt, kReadTimeout);
}

TEST(ProbeServerTest, IdleKeepAliveConnectionIsClosedAfterTheReadDeadline) {
  ProbeServer server({.readTimeout = 200ms});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));
  auto exchange = client.get("/healthz");
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
}

TEST(ProbeServerTest, MalformedRequestClosesTheConnection) {
  ProbeServer server({});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));
  ASSERT_FALSE(client.writeRaw("NOT HTTP AT ALL\r\n\r\n"));
  EXPECT_TRUE(closedByPeer(client.waitForClose()));
}

TEST(ProbeServerTest, ConnectionsBeyondTheLimitAreClosed) {
  ProbeServer server({.maxConnections = 1});
  const unsigned short port = startOnEphemeralPort(server);
  TestClient first;
  ASSERT_FALSE(first.connect(port));
  // A completed exchange proves the server has accepted the first connection.
  ASSERT_FALSE(first.get("/healthz").ec);

  TestClient second;
  ASSERT_FALSE(second.connect(port));
  EXPECT_TRUE(closedByPeer(second.waitForClose()));

  auto exchange = first.get("/healthz");
  ASSERT_FALSE(exchange.ec) << exchange.ec.message();
  EXPECT_EQ(exchange.response.result(), http::status::ok);
}

TEST(ProbeServerTest, StopReturnsPromptlyAndClosesOpenConnections) {
  ProbeServer server({});  // default 10 s read deadline: stop() must not wait for it
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));
  ASSERT_FALSE(client.get("/healthz").ec);

  const auto stopAt = Clock::now();
  server.stop();
  EXPECT_LT(Clock::now() - stopAt, 1s);
  EXPECT_TRUE(closedByPeer(client.waitForClose()));

  TestClient late;
  EXPECT_TRUE(late.connect(port));  // nothing listens any more
}

TEST(ProbeServerTest, CanBeStartedAgainAfterStop) {
  ProbeServer server({});
  startOnEphemeralPort(server);
  server.stop();
  server.stop();  // a second stop is a no-op
  const unsigned short port = startOnEphemeralPort(server);
  TestClient client;
  ASSERT_FALSE(client.connect(port));
  EXPECT_EQ(client.get("/healthz").response.result(), http::status::ok);
}

TEST(ProbeServerTest, StartReportsWhyItCannotListen) {
  ProbeServer server({});
  auto malformed = server.start("nonsense");
  ASSERT_FALSE(malformed);
  EXPECT_NE(malformed.error().find("nonsense"), std::string::npos) << malformed.error();

  const unsigned short port = startOnEphemeralPort(server);
  auto again = server.start("127.0.0.1:0");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), "probe server already started");

  ProbeServer other({});
  auto busy = other.start("127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(busy);
  EXPECT_NE(busy.error().find("bind"), std::string::npos) << busy.error();
}

TEST(ProbeServerTest, MetricsAndProbesCanBeServedSeparately) {
  Registry registry;
  registry.gauge("meshgate_leader", "Leader").with({}).set(1);
  ProbeServer metricsServer({.routes = {.registry = &registry, .health = false}});
  ProbeServer probeServer({});
  const unsigned short metricsPort = startOnEphemeralPort(metricsServer);
  const unsigned short probePort = startOnEphemeralPort(probeServer);

  TestClient metricsClient;
  ASSERT_FALSE(metricsClient.connect(metricsPort));
  EXPECT_EQ(metricsClient.get("/metrics").response.result(), http::status::ok);
  EXPECT_EQ(metricsClient.get("/healthz").response.result(), http::status::not_found);

  TestClient probeClient;
  ASSERT_FALSE(probeClient.connect(probePort));
  EXPECT_EQ(probeClient.get("/healthz").response.result(), http::status::ok);
  EXPECT_EQ(probeClient.get("/metrics").response.result(), http::status::not_found);
}

}  // namespace
}  // namespace metrics
