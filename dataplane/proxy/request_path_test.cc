// In-process tests of the proxy's HTTP/1.1 request path: a real ProxyServer in file mode (one
// worker, ephemeral loopback ports) between a raw-socket client (testing/raw_http_client.h) and
// a scripted upstream (testing/scripted_upstream.h) that answers with exactly the bytes a test
// gives it and records exactly the bytes the proxy sent. Covers Expect: 100-continue, interim
// 1xx responses (and a 101 nobody asked for), pooled connections the upstream closed or sent
// unsolicited bytes on, responses cut short or ended by a half-close, clients that go away or
// half-close, pipelining across a retry, and the framing of every reply the proxy makes itself.
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/ascii.h"
#include "base/testing/eventually.h"
#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/testing/raw_http_client.h"
#include "dataplane/proxy/testing/scripted_upstream.h"

namespace meshgate::dp {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using meshgate::testing::eventually;
using testing::ConnectionScript;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::okResponse;
using testing::RawHttpClient;
using testing::RawResponse;
using testing::ScriptedUpstream;
using ::testing::StartsWith;

using Steady = std::chrono::steady_clock;

// ---- Config ----------------------------------------------------------------------------------

json backendRule(const std::string& cluster) {
  return {{"backends", json::array({{{"service", cluster}, {"port", 80}}})}};
}

json route(const std::string& name, const std::string& host, json rules) {
  return {{"metadata", {{"name", name}}},
          {"spec", {{"hosts", json::array({host})}, {"rules", std::move(rules)}}}};
}

json cluster(const std::string& name, uint16_t port) {
  return {{"name", name}, {"endpoints", json::array({{{"address", "127.0.0.1"}, {"port", port}}})}};
}

// Listener "http" and the admin endpoint on ephemeral loopback ports, no drain wait, and route
// "app": host app.test, every path, to cluster "app" at `upstreamPort`.
json proxyConfig(uint16_t upstreamPort) {
  json config;
  config["admin"] = {{"address", "127.0.0.1"}, {"port", 0}};
  config["listeners"] = json::array({{{"name", "http"}, {"address", "127.0.0.1"}, {"port", 0}}});
  config["routes"] = json::array({route("app", "app.test", json::array({backendRule("app")}))});
  config["clusters"] = json::array({cluster("app", upstreamPort)});
  config["timeouts"] = {{"drain", "0s"}};
  return config;
}

json& appRule(json& config) {
  return config["routes"][0]["spec"]["rules"][0];
}

// A loopback port nothing listens on: bound, then closed.
uint16_t closedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("cannot bind a loopback port");
  ::close(fd);
  return ntohs(address.sin_port);
}

// ---- The proxy -------------------------------------------------------------------------------

// meshgate-proxy in file mode with `config`, run() on a thread of its own; stopped (no drain
// wait) when it goes.
class StandaloneProxy {
 public:
  explicit StandaloneProxy(const json& config) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meshgate-request-path-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    const std::string path = dir_ + "/proxy.json";
    std::ofstream(path) << config.dump(2);

    ProxyServerOptions options;
    options.configPath = path;
    options.concurrency = 1;
    options.watchFile = false;
    server_ = std::make_unique<ProxyServer>(std::move(options));
    thread_ = std::thread([this] {
      server_->run();
      exited_ = true;
    });
    if (!eventually([this] { return server_->adminPort() != 0 || exited_; }) || exited_) {
      stop();
      throw std::runtime_error("the proxy did not start (its log says why)");
    }
    const std::optional<RawResponse> dump = admin("/config_dump");
    if (!dump || dump->status != 200) {
      stop();
      throw std::runtime_error("no /config_dump");
    }
    port_ = json::parse(dump->body)["boundPorts"]["http"].get<uint16_t>();
  }
  ~StandaloneProxy() { stop(); }
  StandaloneProxy(const StandaloneProxy&) = delete;
  StandaloneProxy& operator=(const StandaloneProxy&) = delete;

  // The port of listener "http".
  uint16_t port() const { return port_; }

  std::optional<RawResponse> admin(const std::string& target) {
    RawHttpClient client(server_->adminPort());
    if (!client.send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
      return std::nullopt;
    return client.readResponse();
  }
  std::string stats() {
    const auto page = admin("/stats");
    return page ? page->body : std::string();
  }

 private:
  void stop() {
    if (thread_.joinable()) {
      server_->requestStop();
      thread_.join();
    }
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_;
  std::unique_ptr<ProxyServer> server_;
  std::thread thread_;
  std::atomic<bool> exited_{false};
  uint16_t port_ = 0;
};

// ---- Requests and checks ---------------------------------------------------------------------

std::string request(std::string_view method, std::string_view target,
                    std::string_view host = "app.test", std::string_view extraHeaders = {}) {
  return std::string(method) + " " + std::string(target) +
         " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n" + std::string(extraHeaders) + "\r\n";
}
std::string get(std::string_view target, std::string_view host = "app.test") {
  return request("GET", target, host);
}

// What a local reply's connection does next.
enum class Then { KeepAlive, Close };

// Reads a reply the proxy made itself and checks its framing: the status line, a body of
// `body` (for HEAD: none) with a content-length of exactly its size, and the connection: closed
// right after the body when `then` is Close (and the head says so), open otherwise. A
// content-length that disagrees with the bytes sent shows up as a wrong body, a timeout, bytes
// after the body, or — for a kept connection — a next response that does not parse.
void expectLocalReply(RawHttpClient& client, std::string_view method, std::string_view statusLine,
                      std::string_view body, Then then) {
  const std::optional<RawResponse> reply = client.readResponse(method);
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(reply->statusLine, statusLine);
  EXPECT_EQ(reply->headerCount("content-length"), 1u) << reply->head;
  EXPECT_EQ(reply->header("content-length"), std::to_string(body.size())) << reply->head;
  EXPECT_EQ(reply->body, method == "HEAD" ? std::string_view{} : body);
  if (then == Then::Close) {
    EXPECT_EQ(reply->header("connection"), "close") << reply->head;
    const testing::RawTail tail = client.readUntilClosed();
    EXPECT_TRUE(tail.closed) << "the proxy keeps the connection open: " << client.error();
    EXPECT_EQ(tail.bytes, "") << "bytes after the announced body";
  } else {
    EXPECT_EQ(reply->header("connection"), std::nullopt) << reply->head;
  }
}

// The proxy serves another request on `client`'s connection: a 200 with `body`.
void expectServedAgain(RawHttpClient& client, std::string_view body) {
  ASSERT_TRUE(client.send(get("/again"))) << client.error();
  const std::optional<RawResponse> next = client.readResponse();
  ASSERT_TRUE(next) << client.error();
  EXPECT_EQ(next->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(next->body, body);
}

// ---- Expect: 100-continue --------------------------------------------------------------------

TEST(RequestPathTest, ExpectContinueIsAnsweredByTheProxyBeforeTheBodyIsSent) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(
      request("POST", "/upload", "app.test", "Content-Length: 11\r\nExpect: 100-continue\r\n")));
  const std::optional<RawResponse> interim = client.readResponse("POST");
  ASSERT_TRUE(interim) << "no 100 Continue while the client waits: " << client.error();
  EXPECT_EQ(interim->head, "HTTP/1.1 100 Continue\r\n\r\n");

  ASSERT_TRUE(client.send("hello world"));
  const std::optional<RawResponse> response = client.readResponse("POST");
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(response->body, "stored");

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(requests[0], StartsWith("POST /upload HTTP/1.1\r\n"));
  EXPECT_THAT(requests[0], EndsWith("\r\n\r\nhello world"));
  EXPECT_THAT(asciiLower(requests[0]), Not(HasSubstr("expect:")))
      << "the proxy answered Expect itself";
  expectServedAgain(client, "stored");
}

TEST(RequestPathTest, ExpectContinueOnAStreamedBodyYieldsExactlyOneInterimResponse) {
  // The body exceeds the retry buffer, so it streams: the head goes upstream first. The upstream
  // answers with its own 100 Continue before the final response; the client must see one.
  ScriptedUpstream upstream({},
                            ConnectionScript()
                                .respond("HTTP/1.1 100 Continue\r\n\r\n" + okResponse("streamed"))
                                .repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 16;
  StandaloneProxy proxy(config);
  RawHttpClient client(proxy.port());

  const std::string body(64, 'b');
  ASSERT_TRUE(client.send(
      request("PUT", "/big", "app.test", "Content-Length: 64\r\nExpect: 100-continue\r\n")));
  const std::optional<RawResponse> interim = client.readResponse("PUT");
  ASSERT_TRUE(interim) << client.error();
  EXPECT_EQ(interim->head, "HTTP/1.1 100 Continue\r\n\r\n");

  ASSERT_TRUE(client.send(body.substr(0, 20)));
  ASSERT_TRUE(client.send(body.substr(20)));
  const std::optional<RawResponse> response = client.readResponse("PUT");
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 200 OK") << "a second interim response";
  EXPECT_EQ(response->body, "streamed");

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(requests[0], EndsWith("\r\n\r\n" + body));
  EXPECT_THAT(asciiLower(requests[0]), Not(HasSubstr("expect:")));
  expectServedAgain(client, "streamed");
}

// ---- Interim responses -----------------------------------------------------------------------

TEST(RequestPathTest, InterimResponsesFromTheUpstreamAreNotForwarded) {
  ScriptedUpstream upstream({ConnectionScript()
                                 .readRequest()
                                 .write("HTTP/1.1 103 Early Hints\r\n"
                                        "link: </app.css>; rel=preload\r\n\r\n")
                                 .write("HTTP/1.1 103 Early Hints\r\n"
                                        "link: </app.js>; rel=preload\r\n\r\n"
                                        "HTTP/1.1 100 Continue\r\n\r\n")
                                 .write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfinal")
                                 .respond(okResponse("next"))});
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/page")));
  const std::optional<RawResponse> response = client.readResponse();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(response->body, "final");
  EXPECT_EQ(response->header("link"), std::nullopt);

  // Nothing else was left on the connection: the next response is the next request's.
  ASSERT_TRUE(client.send(get("/next")));
  const std::optional<RawResponse> next = client.readResponse();
  ASSERT_TRUE(next) << client.error();
  EXPECT_EQ(next->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(next->body, "next");
  EXPECT_EQ(upstream.connectionCount(), 1u);
}

// ---- Pooled connections ----------------------------------------------------------------------

TEST(RequestPathTest, APooledConnectionClosedAtTheMomentOfReuseIsReplayedOnANewOne) {
  // Connection 0 serves one request, then takes the next one and closes without a byte: what a
  // server's keep-alive timeout firing just as the proxy reuses the connection looks like.
  ScriptedUpstream upstream({
      ConnectionScript().respond(okResponse("first")).readRequest().close(),
      ConnectionScript().respond(okResponse("second")),
  });
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/first")));
  const std::optional<RawResponse> first = client.readResponse();
  ASSERT_TRUE(first) << client.error();
  EXPECT_EQ(first->body, "first");

  ASSERT_TRUE(client.send(get("/second")));
  const std::optional<RawResponse> second = client.readResponse();
  ASSERT_TRUE(second) << client.error();
  EXPECT_EQ(second->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(second->body, "second");

  const auto connections = upstream.connections();
  ASSERT_EQ(connections.size(), 2u);
  ASSERT_EQ(connections[0].requests.size(), 2u);
  EXPECT_THAT(connections[0].requests[1], StartsWith("GET /second HTTP/1.1\r\n"));
  ASSERT_EQ(connections[1].requests.size(), 1u);
  EXPECT_THAT(connections[1].requests[0], StartsWith("GET /second HTTP/1.1\r\n"));
}

TEST(RequestPathTest, APooledConnectionTheUpstreamClosedWhileIdleDoesNotFailTheNextRequest) {
  ScriptedUpstream upstream({
      ConnectionScript().respond(okResponse("first")).close(),
      ConnectionScript().respond(okResponse("second")),
  });
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/first")));
  ASSERT_TRUE(client.readResponse()) << client.error();
  ASSERT_TRUE(upstream.waitUntil([](const auto& c) { return !c.empty() && c[0].closed; }));

  ASSERT_TRUE(client.send(get("/second")));
  const std::optional<RawResponse> second = client.readResponse();
  ASSERT_TRUE(second) << client.error();
  EXPECT_EQ(second->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(second->body, "second");
  const auto connections = upstream.connections();
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_EQ(connections[0].requests.size(), 1u);
  EXPECT_EQ(connections[1].requests.size(), 1u);
}

TEST(RequestPathTest, BytesAnUpstreamSendsBetweenResponsesNeverAnswerAnotherRequest) {
  // After its response, connection 0 sends a second, unsolicited one while it sits in the pool
  // (a body longer than its content-length, or a server's "408" at its keep-alive timeout). Those
  // bytes answer nothing: they must not become the response to the next request, which here
  // comes from another client.
  ScriptedUpstream upstream({
      ConnectionScript()
          .respond(okResponse("first"))
          .pause()
          .write(okResponse("unsolicited"))
          .respond(okResponse("second")),
      ConnectionScript().respond(okResponse("second")),
  });
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  RawHttpClient client(proxy.port());
  ASSERT_TRUE(client.send(get("/first")));
  const std::optional<RawResponse> first = client.readResponse();
  ASSERT_TRUE(first) << client.error();
  ASSERT_EQ(first->body, "first");
  upstream.release();
  ASSERT_TRUE(upstream.waitUntil(
      [](const auto& c) { return !c.empty() && c[0].sent.ends_with(okResponse("unsolicited")); }));

  RawHttpClient other(proxy.port());
  ASSERT_TRUE(other.send(get("/second")));
  const std::optional<RawResponse> second = other.readResponse();
  ASSERT_TRUE(second) << other.error();
  EXPECT_EQ(second->body, "second") << "another request's bytes answered this one";
}

TEST(RequestPathTest, ANonIdempotentRequestOnAStaleConnectionIsNotReplayed) {
  ScriptedUpstream upstream({
      ConnectionScript().respond(okResponse("first")).readRequest().close(),
  });
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/first")));
  ASSERT_TRUE(client.readResponse()) << client.error();
  ASSERT_TRUE(
      client.send(request("POST", "/orders", "app.test", "Content-Length: 5\r\n") + "order"));
  const std::optional<RawResponse> response = client.readResponse("POST");
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 502 Bad Gateway");
  EXPECT_EQ(upstream.connectionCount(), 1u) << "the POST was sent a second time";
  EXPECT_EQ(upstream.requests().size(), 2u);
}

TEST(RequestPathTest, ASwitchingProtocolsAnswerToARequestWithoutUpgradeIsNotForwarded) {
  // 101 is final, not interim; to a request that asked for no upgrade it is invalid (RFC 9110
  // section 15.2.2), and the connection it came on speaks something else from then on.
  ScriptedUpstream upstream({
      ConnectionScript()
          .readRequest()
          .write("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
                 "connection: upgrade\r\n\r\n")
          .respond("not http\r\n\r\n"),
      ConnectionScript().respond(okResponse("fresh")),
  });
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/plain")));
  const std::optional<RawResponse> response = client.readResponse();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 502 Bad Gateway");
  EXPECT_EQ(response->header("upgrade"), std::nullopt);

  RawHttpClient next(proxy.port());
  ASSERT_TRUE(next.send(get("/next")));
  const std::optional<RawResponse> second = next.readResponse();
  ASSERT_TRUE(second) << next.error();
  EXPECT_EQ(second->body, "fresh") << "the switched connection was pooled and reused";
  EXPECT_EQ(upstream.connections().at(0).requests.size(), 1u);
}

// ---- Responses that end early or by a close --------------------------------------------------

TEST(RequestPathTest, AResponseCutShortOfItsContentLengthEndsTheClientConnection) {
  ScriptedUpstream upstream({ConnectionScript()
                                 .readRequest()
                                 .write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
                                 .close()});
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/cut")));
  const testing::RawTail tail = client.readUntilClosed();
  EXPECT_TRUE(tail.closed) << "the client waits for 90 bytes that will never come";
  EXPECT_THAT(tail.bytes, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(tail.bytes, HasSubstr("\r\ncontent-length: 100\r\n"));
  EXPECT_THAT(tail.bytes, EndsWith("\r\n\r\n0123456789"));
}

TEST(RequestPathTest, AChunkedResponseCutShortEndsTheClientConnection) {
  ScriptedUpstream upstream({ConnectionScript()
                                 .readRequest()
                                 .write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                                        "5\r\nhello\r\n")
                                 .close()});
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/cut")));
  const testing::RawTail tail = client.readUntilClosed();
  EXPECT_TRUE(tail.closed);
  EXPECT_THAT(tail.bytes, EndsWith("\r\n\r\n5\r\nhello\r\n")) << "no last chunk was made up";
}

TEST(RequestPathTest, ABodyThatRunsUntilTheUpstreamHalfClosesReachesTheClientWhole) {
  ScriptedUpstream upstream({ConnectionScript()
                                 .readRequest()
                                 .write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n")
                                 .write("part one, ")
                                 .write("part two")
                                 .shutdownSend()});
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/stream")));
  const std::optional<RawResponse> response = client.readResponse();  // reads to the close
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_EQ(response->body, "part one, part two");
  EXPECT_TRUE(upstream.waitForPeerClose(0)) << "the proxy keeps the upstream connection";
}

TEST(RequestPathTest, AnUpstreamConnectionEndedByConnectionCloseIsNotPooled) {
  ScriptedUpstream upstream({
      ConnectionScript()
          .respond("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello")
          .shutdownSend(),
      ConnectionScript().respond(okResponse("again")),
  });
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/")));
  const std::optional<RawResponse> response = client.readResponse();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->body, "hello");
  // Connection is hop-by-hop: the client's own connection may stay open.
  EXPECT_EQ(response->header("connection"), std::nullopt);
  EXPECT_TRUE(upstream.waitForPeerClose(0)) << "the proxy pooled a connection the server ended";

  expectServedAgain(client, "again");
  EXPECT_EQ(upstream.connectionCount(), 2u);
}

// ---- A client that goes away -----------------------------------------------------------------

TEST(RequestPathTest, AClientGoneMidBodyLeavesNoBrokenUpstreamConnectionBehind) {
  // Connection 0 never gets a whole request; connection 1 serves the next client.
  ScriptedUpstream upstream({
      ConnectionScript().readRequest(),
      ConnectionScript().respond(okResponse("fine")),
  });
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 16;  // so the body streams
  StandaloneProxy proxy(config);

  RawHttpClient leaving(proxy.port());
  ASSERT_TRUE(leaving.send(request("POST", "/upload", "app.test", "Content-Length: 1000\r\n") +
                           std::string(100, 'x')));
  ASSERT_TRUE(upstream.waitUntil([](const auto& c) {
    return !c.empty() && c[0].received.ends_with("\r\n\r\n" + std::string(100, 'x'));
  })) << "the head and the first 100 body bytes did not reach the upstream";
  leaving.shutdownSend();
  const testing::RawTail tail = leaving.readUntilClosed();
  EXPECT_TRUE(tail.closed) << "the proxy keeps a connection it cannot serve";
  EXPECT_THAT(tail.bytes, StartsWith("HTTP/1.1 400 Bad Request\r\n")) << "the client's fault";
  EXPECT_TRUE(upstream.waitForPeerClose(0)) << "the half-sent upstream request was left open";
  EXPECT_THAT(proxy.stats(),
              HasSubstr("meshgate_proxy_upstream_errors_total{cluster=\"app\",kind=\"reset\"} 0"))
      << "the client's abort was held against the upstream";

  RawHttpClient next(proxy.port());
  ASSERT_TRUE(next.send(get("/next")));
  const std::optional<RawResponse> response = next.readResponse();
  ASSERT_TRUE(response) << next.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(response->body, "fine");

  const auto connections = upstream.connections();
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_TRUE(connections[0].requests.empty());
  EXPECT_THAT(connections[0].received, EndsWith(std::string(100, 'x')))
      << "bytes were written on the broken connection after the client left";
  ASSERT_EQ(connections[1].requests.size(), 1u);
  EXPECT_THAT(connections[1].requests[0], StartsWith("GET /next HTTP/1.1\r\n"));
}

TEST(RequestPathTest, AClientThatHalfClosesAfterItsRequestStillGetsTheResponse) {
  ScriptedUpstream upstream({ConnectionScript().respond(okResponse("answer"))});
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/")));
  client.shutdownSend();
  const std::optional<RawResponse> response = client.readResponse();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(response->body, "answer");
  const testing::RawTail tail = client.readUntilClosed();
  EXPECT_TRUE(tail.closed) << "the proxy waits for a request that cannot come";
  EXPECT_EQ(tail.bytes, "");
}

// ---- Pipelining ------------------------------------------------------------------------------

TEST(RequestPathTest, PipelinedRequestsAreAnsweredInOrderAcrossARetry) {
  // /2 gets a 503 the first time; the route retries on 5xx.
  auto secondTries = std::make_shared<std::atomic<int>>(0);
  ScriptedUpstream upstream(
      {}, ConnectionScript()
              .respondWith([secondTries](const std::string& request) -> std::string {
                if (request.starts_with("GET /1 ")) return okResponse("one");
                if (request.starts_with("GET /2 "))
                  return ++*secondTries == 1 ? "HTTP/1.1 503 Service Unavailable\r\n"
                                               "content-length: 4\r\n\r\nbusy"
                                             : okResponse("two");
                if (request.starts_with("GET /3 ")) return okResponse("three");
                return "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
              })
              .repeat());
  json config = proxyConfig(upstream.port());
  appRule(config)["retries"] = {{"attempts", 1},
                                {"retryOn", json::array({"5xx"})},
                                {"backoff", {{"base", "1ms"}, {"max", "1ms"}}}};
  StandaloneProxy proxy(config);
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/1") + get("/2") + get("/3")));
  for (const std::string body : {"one", "two", "three"}) {
    const std::optional<RawResponse> response = client.readResponse();
    ASSERT_TRUE(response) << "waiting for \"" << body << "\": " << client.error();
    EXPECT_EQ(response->statusLine, "HTTP/1.1 200 OK");
    EXPECT_EQ(response->body, body);
  }

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_THAT(requests[0], StartsWith("GET /1 "));
  EXPECT_THAT(requests[1], StartsWith("GET /2 "));
  EXPECT_THAT(requests[2], StartsWith("GET /2 "));
  EXPECT_THAT(requests[3], StartsWith("GET /3 "));
  EXPECT_THAT(proxy.stats(), HasSubstr("meshgate_proxy_retries_total{cluster=\"app\"} 1"));
}

// ---- Replies the proxy makes itself ----------------------------------------------------------

TEST(RequestPathTest, NoRouteIsAWellFramed404ThatKeepsTheConnection) {
  ScriptedUpstream upstream({ConnectionScript().respond(okResponse("served")).repeat()});
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/", "nowhere.test")));
  expectLocalReply(client, "GET", "HTTP/1.1 404 Not Found", "no route for this host and path\n",
                   Then::KeepAlive);
  expectServedAgain(client, "served");
}

TEST(RequestPathTest, AHeadRequestGetsTheLengthOfTheLocalReplyButNoBody) {
  ScriptedUpstream upstream({ConnectionScript().respond(okResponse("served")).repeat()});
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  // Pipelined: a body sent after the HEAD reply would be read as the GET's response.
  ASSERT_TRUE(client.send(request("HEAD", "/", "nowhere.test") + get("/after")));
  expectLocalReply(client, "HEAD", "HTTP/1.1 404 Not Found", "no route for this host and path\n",
                   Then::KeepAlive);
  const std::optional<RawResponse> next = client.readResponse();
  ASSERT_TRUE(next) << client.error();
  EXPECT_EQ(next->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(next->body, "served");
}

TEST(RequestPathTest, ANoRouteReplyToARequestWithABodyClosesTheConnection) {
  ScriptedUpstream upstream;
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(request("POST", "/", "nowhere.test", "Content-Length: 5\r\n") + "hello"));
  expectLocalReply(client, "POST", "HTTP/1.1 404 Not Found", "no route for this host and path\n",
                   Then::Close);
}

TEST(RequestPathTest, AMalformedRequestIsAWellFramed400ThatCloses) {
  ScriptedUpstream upstream;
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: app.test\r\nBad Header: x\r\n\r\n"));
  expectLocalReply(client, "GET", "HTTP/1.1 400 Bad Request",
                   std::string(http::describe(http::ParseStatus::BadHeaderName)) + "\n",
                   Then::Close);
  EXPECT_EQ(upstream.connectionCount(), 0u);
}

TEST(RequestPathTest, ABodyOverTheLimitIsAWellFramed413SentBefore100Continue) {
  ScriptedUpstream upstream;
  json config = proxyConfig(upstream.port());
  config["limits"]["maxBodyBytes"] = 1000;
  StandaloneProxy proxy(config);
  RawHttpClient client(proxy.port());

  // The client waits for 100 Continue before sending the body; it must get the 413 instead.
  ASSERT_TRUE(client.send(
      request("POST", "/upload", "app.test", "Content-Length: 2000\r\nExpect: 100-continue\r\n")));
  expectLocalReply(client, "POST", "HTTP/1.1 413 Content Too Large", "request body too large\n",
                   Then::Close);
  EXPECT_EQ(upstream.connectionCount(), 0u);
}

TEST(RequestPathTest, A413ReachesAClientThatSentTheBodyWithoutWaiting) {
  ScriptedUpstream upstream;
  json config = proxyConfig(upstream.port());
  config["limits"]["maxBodyBytes"] = 1000;
  StandaloneProxy proxy(config);
  RawHttpClient client(proxy.port());

  // The body follows the head at once; the proxy refuses it unread. Whether the client manages
  // to write all of it depends on when the proxy closes; the reply must arrive either way.
  client.send(request("POST", "/upload", "app.test", "Content-Length: 400000\r\n") +
              std::string(400000, 'x'));
  expectLocalReply(client, "POST", "HTTP/1.1 413 Content Too Large", "request body too large\n",
                   Then::Close);
}

TEST(RequestPathTest, BodiesBeyondTheBufferBudgetAreShedWith503UntilMemoryIsFreed) {
  ScriptedUpstream upstream({ConnectionScript().respond(okResponse("served")).repeat()});
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 1000;
  config["limits"]["maxBufferedBodyBytes"] = 1500;
  StandaloneProxy proxy(config);
  const std::string post = request("POST", "/upload", "app.test", "Content-Length: 1000\r\n");

  // The first body is held half-sent: its 1000 bytes are reserved while the proxy waits for more.
  RawHttpClient holder(proxy.port());
  ASSERT_TRUE(holder.send(post + std::string(500, 'a')));
  ASSERT_TRUE(eventually([&] {
    return proxy.stats().find("meshgate_proxy_active_requests 1\n") != std::string::npos;
  }));

  // A second one does not fit beside it: 503 before its body is read, and counted.
  RawHttpClient shed(proxy.port());
  ASSERT_TRUE(shed.send(post + std::string(1000, 'b')));
  expectLocalReply(shed, "POST", "HTTP/1.1 503 Service Unavailable",
                   "over capacity: buffered request bodies\n", Then::Close);
  EXPECT_THAT(proxy.stats(),
              HasSubstr("meshgate_proxy_requests_shed_total{reason=\"body_buffer\"} 1"));

  // The held request completes, and its memory is given back for the next one.
  ASSERT_TRUE(holder.send(std::string(500, 'a')));
  const std::optional<RawResponse> held = holder.readResponse();
  ASSERT_TRUE(held) << holder.error();
  EXPECT_EQ(held->statusLine, "HTTP/1.1 200 OK");
  RawHttpClient after(proxy.port());
  ASSERT_TRUE(after.send(post + std::string(1000, 'c')));
  const std::optional<RawResponse> served = after.readResponse();
  ASSERT_TRUE(served) << after.error();
  EXPECT_EQ(served->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(upstream.requests().size(), 2u);
}

TEST(RequestPathTest, AnUnreachableClusterIsAWellFramed503ThatKeepsTheConnection) {
  ScriptedUpstream upstream({ConnectionScript().respond(okResponse("served")).repeat()});
  json config = proxyConfig(upstream.port());
  config["clusters"].push_back(cluster("gone", closedPort()));
  config["routes"].push_back(route("gone", "gone.test", json::array({backendRule("gone")})));
  StandaloneProxy proxy(config);
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/", "gone.test")));
  expectLocalReply(client, "GET", "HTTP/1.1 503 Service Unavailable", "upstream connect failure\n",
                   Then::KeepAlive);
  expectServedAgain(client, "served");
}

TEST(RequestPathTest, ASubsetWithoutEndpointsIsAWellFramed503) {
  ScriptedUpstream upstream;
  json config = proxyConfig(upstream.port());
  config["clusters"][0]["subsets"] =
      json::array({{{"name", "canary"}, {"labels", {{"track", "canary"}}}}});
  appRule(config)["backends"][0]["subset"] = "canary";
  StandaloneProxy proxy(config);
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/")));
  expectLocalReply(client, "GET", "HTTP/1.1 503 Service Unavailable", "no endpoint\n", Then::Close);
  EXPECT_EQ(upstream.connectionCount(), 0u);
}

TEST(RequestPathTest, AnUpstreamThatNeverAnswersIsAWellFramed504AndIsNotReused) {
  // Connection 0 reads the request and says nothing; connection 1 serves the next one.
  ScriptedUpstream upstream({
      ConnectionScript().readRequest(),
      ConnectionScript().respond(okResponse("after")),
  });
  json config = proxyConfig(upstream.port());
  appRule(config)["timeout"] = "200ms";
  StandaloneProxy proxy(config);
  RawHttpClient client(proxy.port());

  const auto start = Steady::now();
  ASSERT_TRUE(client.send(get("/slow")));
  expectLocalReply(client, "GET", "HTTP/1.1 504 Gateway Timeout", "upstream timeout\n",
                   Then::KeepAlive);
  EXPECT_GE(Steady::now() - start, 200ms);
  EXPECT_TRUE(upstream.waitForPeerClose(0)) << "the timed-out upstream connection stays open";
  expectServedAgain(client, "after");
  EXPECT_EQ(upstream.connectionCount(), 2u);
}

TEST(RequestPathTest, AnUpstreamThatClosesMidHeadIsAWellFramed502ThatKeepsTheConnection) {
  ScriptedUpstream upstream({
      ConnectionScript().readRequest().write("HTTP/1.1 200 OK\r\ncontent-le").close(),
      ConnectionScript().respond(okResponse("after")),
  });
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/")));
  expectLocalReply(client, "GET", "HTTP/1.1 502 Bad Gateway", "upstream connection reset\n",
                   Then::KeepAlive);
  expectServedAgain(client, "after");
  EXPECT_EQ(upstream.requests().size(), 2u) << "a request the upstream had answered in part was "
                                               "sent again";
}

TEST(RequestPathTest, AnInvalidUpstreamResponseHeadIsAWellFramed502AndItsConnectionIsDropped) {
  ScriptedUpstream upstream({
      ConnectionScript().respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n"
                                 "\r\nabc"),
      ConnectionScript().respond(okResponse("after")),
  });
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/")));
  expectLocalReply(client, "GET", "HTTP/1.1 502 Bad Gateway",
                   "invalid upstream response: " +
                       std::string(http::describe(http::ParseStatus::DuplicateContentLength)) +
                       "\n",
                   Then::KeepAlive);
  EXPECT_TRUE(upstream.waitForPeerClose(0));
  expectServedAgain(client, "after");
  EXPECT_EQ(upstream.connectionCount(), 2u);
}

TEST(RequestPathTest, AHeadThatTakesTooLongIsAWellFramed408ThatCloses) {
  ScriptedUpstream upstream;
  json config = proxyConfig(upstream.port());
  config["timeouts"]["headerRead"] = "200ms";
  StandaloneProxy proxy(config);
  RawHttpClient client(proxy.port());

  const auto start = Steady::now();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: app"));
  expectLocalReply(client, "GET", "HTTP/1.1 408 Request Timeout", "request header timeout\n",
                   Then::Close);
  EXPECT_GE(Steady::now() - start, 200ms);
  EXPECT_EQ(upstream.connectionCount(), 0u);
}

TEST(RequestPathTest, RedirectsAreWellFramedAndKeepTheConnection) {
  ScriptedUpstream upstream({ConnectionScript().respond(okResponse("served")).repeat()});
  json config = proxyConfig(upstream.port());
  json redirectRule = {
      {"matches", json::array({{{"path", {{"type", "PathPrefix"}, {"value", "/old"}}}}})},
      {"filters", {{"redirect", {{"hostname", "www.app.test"}}}}}};
  config["routes"][0]["spec"]["rules"].push_back(redirectRule);
  json secure = route("secure", "secure.test", json::array({backendRule("app")}));
  secure["spec"]["tls"] = {{"redirectHTTP", true}};
  config["routes"].push_back(secure);
  StandaloneProxy proxy(config);
  RawHttpClient client(proxy.port());

  ASSERT_TRUE(client.send(get("/old/page?x=1")));
  {
    const std::optional<RawResponse> reply = client.readResponse();
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ(reply->statusLine, "HTTP/1.1 302 Found");
    EXPECT_EQ(reply->header("location"), "http://www.app.test/old/page?x=1");
    EXPECT_EQ(reply->header("content-length"), "0");
    EXPECT_EQ(reply->body, "");
    EXPECT_EQ(reply->header("connection"), std::nullopt);
  }
  ASSERT_TRUE(client.send(request("HEAD", "/login?next=%2F", "secure.test:80")));
  {
    const std::optional<RawResponse> reply = client.readResponse("HEAD");
    ASSERT_TRUE(reply) << client.error();
    EXPECT_EQ(reply->statusLine, "HTTP/1.1 301 Moved Permanently");
    EXPECT_EQ(reply->header("location"), "https://secure.test/login?next=%2F");
    EXPECT_EQ(reply->header("content-length"), "0");
    EXPECT_EQ(reply->header("connection"), std::nullopt);
  }
  expectServedAgain(client, "served");
  EXPECT_EQ(upstream.requests().size(), 1u) << "a redirect reached the upstream";
}

}  // namespace
}  // namespace meshgate::dp
