// In-process tests of the proxy's HTTP/1.1 request path, client side: a client that goes away
// mid-body or half-closes after its request, and pipelined requests answered in order across a
// retry. Same harness as request_path_upstream_test.cc.
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

}  // namespace
}  // namespace meshgate::dp
