// In-process tests of the proxy's HTTP/1.1 request path, upstream side: a real ProxyServer
// (testing/standalone_proxy.h) between a raw-socket client and a scripted upstream that answers
// with exactly the bytes a test gives it. Covers Expect: 100-continue, interim 1xx responses (and
// a 101 nobody asked for), pooled connections the upstream closed or sent unsolicited bytes on,
// and responses cut short or ended by a half-close.
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

}  // namespace
}  // namespace meshgate::dp
