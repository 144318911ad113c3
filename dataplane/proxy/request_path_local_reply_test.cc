// In-process tests of the replies the proxy makes itself: for each (404, HEAD, 400, 413, the
// buffered-body 503, 503 connect failure and no endpoint, 504, 502, 408, redirects) the exact
// status line, one content-length equal to the body, and whether the connection closes or serves
// the next request. Same harness as request_path_upstream_test.cc.
#include <chrono>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/testing/eventually.h"
#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/testing/raw_http_client.h"
#include "dataplane/proxy/testing/scripted_upstream.h"
#include "dataplane/proxy/testing/standalone_proxy.h"

namespace meshgate::dp {
namespace {

using namespace std::chrono_literals;
using meshgate::testing::eventually;
using testing::appRule;
using testing::backendRule;
using testing::closedPort;
using testing::cluster;
using testing::ConnectionScript;
using ::testing::EndsWith;
using testing::expectLocalReply;
using testing::expectServedAgain;
using testing::get;
using ::testing::HasSubstr;
using testing::json;
using ::testing::Not;
using testing::okResponse;
using testing::proxyConfig;
using testing::RawHttpClient;
using testing::RawResponse;
using testing::request;
using testing::route;
using testing::ScriptedUpstream;
using testing::StandaloneProxy;
using ::testing::StartsWith;
using testing::Then;

using Steady = std::chrono::steady_clock;

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
