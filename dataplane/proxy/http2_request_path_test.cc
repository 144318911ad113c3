// In-process tests of the proxy's HTTP/2 request path: a real ProxyServer
// (testing/standalone_proxy.h) between an HTTP/2 client (testing/http2_client.h, nghttp2's client
// session) and a scripted HTTP/1.1 upstream; shared helpers in
// testing/http2_request_path_harness.h. Shows that a cleartext client opening with the HTTP/2
// preface (h2c, prior knowledge) and a TLS client whose ALPN chose h2 are served over HTTP/2 on
// the same listeners as HTTP/1.1 clients: requests go upstream as HTTP/1.1 (host, forwarded
// headers, cookie crumbs joined) and many streams run at once on one connection. Bodies are in
// http2_request_body_test.cc, local replies in http2_local_reply_test.cc, resets, malformed input,
// idle timeouts and drains in http2_stream_lifecycle_test.cc.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/http2/server_codec.h"
#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/http2_request_path_harness.h"

namespace meshgate::dp {
namespace {

using namespace std::chrono_literals;
using testing::ConnectionScript;
using testing::describe;
using testing::echoing;
using ::testing::HasSubstr;
using testing::Http2Client;
using testing::Http2ClientOptions;
using testing::Http2Request;
using testing::Http2Response;
using testing::json;
using testing::listenerPort;
using ::testing::Not;
using testing::okResponse;
using testing::parseReceived;
using testing::proxyConfig;
using testing::rawFrame;
using testing::RawHttpClient;
using testing::RawResponse;
using testing::Received;
using testing::ScriptedUpstream;
using testing::StandaloneProxy;
using ::testing::StartsWith;

// ---- h2c with prior knowledge ----------------------------------------------------------------

TEST(Http2RequestPathTest, PriorKnowledgeGetIsForwardedUpstreamAsHttp11) {
  ScriptedUpstream upstream({}, ConnectionScript()
                                    .respond("HTTP/1.1 200 OK\r\n"
                                             "Content-Type: text/plain\r\n"
                                             "Set-Cookie: a=1\r\n"
                                             "Set-Cookie: b=2\r\n"
                                             "Content-Length: 14\r\n"
                                             "\r\n"
                                             "hello from app")
                                    .repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  // nghttp2's client resets a stream whose response has an uppercase field name.
  const Http2Response response =
      client.get("/items?id=7&sort=asc", "app.test", {{"x-client", "yes"}, {"accept", "*/*"}});
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "hello from app");
  EXPECT_EQ(response.header("content-length"), "14");
  EXPECT_EQ(response.header("content-type"), "text/plain");
  EXPECT_EQ(response.headerCount("set-cookie"), 2u);

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(requests[0], StartsWith("GET /items?id=7&sort=asc HTTP/1.1\r\n"));
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "") << requests[0];
  EXPECT_EQ(received.headerCount("host"), 1u) << requests[0];
  EXPECT_EQ(received.header("host"), "app.test");
  EXPECT_EQ(received.header("x-forwarded-proto"), "http");
  EXPECT_EQ(received.header("x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(received.header("x-client"), "yes");
  EXPECT_EQ(received.header("accept"), "*/*");
  EXPECT_TRUE(received.header("x-request-id")) << requests[0];
  EXPECT_EQ(received.framing, http::BodyFraming::None) << requests[0];
  EXPECT_THAT(requests[0], Not(HasSubstr(":authority"))) << "a pseudo-header went upstream";
  EXPECT_THAT(requests[0], Not(HasSubstr(":path")));

  // The next stream of the connection reuses the pooled upstream connection.
  const Http2Response again = client.get("/again");
  ASSERT_TRUE(again.complete()) << describe(again, client);
  EXPECT_EQ(again.body, "hello from app");
  EXPECT_EQ(upstream.connectionCount(), 1u);
  EXPECT_FALSE(client.goAway()) << "GOAWAY code " << client.goAway()->errorCode;
}

TEST(Http2RequestPathTest, AHostHeaderStandsInForAMissingAuthority) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.request(
      Http2Request().withAuthority("").withPath("/by-host").withHeaders({{"host", "app.test"}}));
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "GET /by-host HTTP/1.1");
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  EXPECT_EQ(received.headerCount("host"), 1u) << requests[0];
  EXPECT_EQ(received.header("host"), "app.test");
}

TEST(Http2RequestPathTest, CookieCrumbsAreJoinedIntoOneHeaderUpstream) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response =
      client.get("/cookies", "app.test", {{"cookie", "a=1"}, {"cookie", "b=2"}, {"cookie", "c=3"}});
  ASSERT_TRUE(response.complete()) << describe(response, client);
  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  EXPECT_EQ(received.headerCount("cookie"), 1u) << requests[0];
  EXPECT_EQ(received.header("cookie"), "a=1; b=2; c=3");
}

TEST(Http2RequestPathTest, ManyConcurrentStreamsOnOneConnectionAreEachAnswered) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  constexpr int kStreams = 20;
  std::vector<int32_t> ids;
  for (int i = 0; i < kStreams; ++i) {
    const int32_t id = client.submit("GET", "app.test", "/stream/" + std::to_string(i));
    ASSERT_GT(id, 0) << client.error();
    ids.push_back(id);
  }
  ASSERT_TRUE(client.runUntil([&] {
    for (const int32_t id : ids)
      if (!client.closed(id)) return false;
    return true;
  })) << client.error();
  for (int i = 0; i < kStreams; ++i) {
    const Http2Response& response = client.response(ids[i]);
    EXPECT_TRUE(response.complete()) << i << ": " << describe(response, client);
    EXPECT_EQ(response.status, 200u) << i;
    EXPECT_EQ(response.body, "GET /stream/" + std::to_string(i) + " HTTP/1.1") << i;
  }
  EXPECT_EQ(upstream.requests().size(), static_cast<size_t>(kStreams));
  EXPECT_FALSE(client.goAway());
}

// ---- HTTP/1.1 next to HTTP/2 -----------------------------------------------------------------

TEST(Http2RequestPathTest, Http11StillWorksOnTheSameListener) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  Http2Client h2(proxy.port());
  ASSERT_TRUE(h2.get("/h2-first").complete()) << h2.error();

  // While the HTTP/2 connection stays open. A POST starts with 'P', as the preface does.
  RawHttpClient h1(proxy.port());
  ASSERT_TRUE(h1.send("POST /h1 HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2\r\n\r\nhi"));
  const std::optional<RawResponse> response = h1.readResponse("POST");
  ASSERT_TRUE(response) << h1.error();
  EXPECT_EQ(response->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(response->body, "POST /h1 HTTP/1.1");
  testing::expectServedAgain(h1, "GET /again HTTP/1.1");

  const Http2Response again = h2.get("/h2-again");
  ASSERT_TRUE(again.complete()) << describe(again, h2);
  EXPECT_EQ(again.body, "GET /h2-again HTTP/1.1");
}

TEST(Http2RequestPathTest, APrefaceSplitAcrossReadsIsStillHttp2) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("split")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client client(proxy.port(), raw);
  ASSERT_TRUE(client.ok()) << client.error();
  const std::string_view preface = http2::kClientPreface;
  ASSERT_TRUE(client.sendRaw(preface.substr(0, 5)));
  client.runFor(50ms);  // so the proxy reads the first piece alone
  // The rest, SETTINGS, and GET / on stream 1 for app.test (HPACK: static-table indexes and a
  // literal :authority).
  const std::string block = std::string("\x82\x86\x84\x41\x08", 5) + "app.test";
  ASSERT_TRUE(client.sendRaw(
      std::string(preface.substr(5)) + rawFrame(NGHTTP2_SETTINGS, 0, 0, "") +
      rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1, block)));
  ASSERT_TRUE(client.runUntil([&] {
    for (const auto& frame : client.frames())
      if (frame.type == NGHTTP2_DATA && frame.streamId == 1 &&
          (frame.flags & NGHTTP2_FLAG_END_STREAM))
        return true;
    return false;
  })) << client.error()
      << "; received " << client.raw().size() << " bytes";
  std::string body;
  for (const auto& frame : client.frames())
    if (frame.type == NGHTTP2_DATA && frame.streamId == 1) body += frame.payload;
  EXPECT_EQ(body, "split");
  EXPECT_EQ(upstream.requests().size(), 1u);
}

// ---- TLS with ALPN ---------------------------------------------------------------------------

class Http2TlsTest : public ::testing::Test {
 protected:
  Http2TlsTest() : certificates_({"app.test"}), upstream_({}, echoing()) {
    json config = proxyConfig(upstream_.port());
    json https = {{"name", "https"}, {"address", "127.0.0.1"}, {"port", 0}};
    https["tls"]["certificates"] =
        json::array({{{"certificatePem", certificates_.server().certificatePem},
                      {"privateKeyPem", certificates_.server().keyPem}}});
    config["listeners"].push_back(https);
    proxy_ = std::make_unique<StandaloneProxy>(config);
    tlsPort_ = listenerPort(*proxy_, "https");
  }

  Http2ClientOptions tls(std::vector<std::string> alpn, bool session = true) {
    Http2ClientOptions options;
    options.tls = true;
    options.alpn = std::move(alpn);
    options.startSession = session;
    return options;
  }

  testing::StreamCertificates certificates_;
  ScriptedUpstream upstream_;
  std::unique_ptr<StandaloneProxy> proxy_;
  uint16_t tlsPort_ = 0;
};

TEST_F(Http2TlsTest, AlpnH2IsServedOverHttp2) {
  ASSERT_NE(tlsPort_, 0);
  Http2Client client(tlsPort_, tls({"h2", "http/1.1"}));
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.alpnProtocol(), "h2");

  const Http2Response response = client.get("/secure?x=1");
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "GET /secure?x=1 HTTP/1.1");
  const auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(parseReceived(requests[0]).header("x-forwarded-proto"), "https");

  // Several streams at once over TLS.
  std::vector<int32_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(client.submit("GET", "app.test", "/s" + std::to_string(i)));
  ASSERT_TRUE(client.runUntil([&] {
    for (const int32_t id : ids)
      if (!client.closed(id)) return false;
    return true;
  })) << client.error();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(client.response(ids[i]).body, "GET /s" + std::to_string(i) + " HTTP/1.1");
}

TEST_F(Http2TlsTest, AClientOfferingOnlyHttp11GetsHttp11) {
  ASSERT_NE(tlsPort_, 0);
  Http2Client client(tlsPort_, tls({"http/1.1"}, /*session=*/false));
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.alpnProtocol(), "http/1.1");
  ASSERT_TRUE(client.sendRaw("GET /one HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(client.waitForClose()) << client.error();
  EXPECT_THAT(client.raw(), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(client.raw(), HasSubstr("\r\n\r\nGET /one HTTP/1.1"));
}

TEST_F(Http2TlsTest, AClientWithoutAlpnGetsHttp11) {
  ASSERT_NE(tlsPort_, 0);
  Http2Client client(tlsPort_, tls({}, /*session=*/false));
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.alpnProtocol(), "");
  ASSERT_TRUE(client.sendRaw("GET /two HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(client.waitForClose()) << client.error();
  EXPECT_THAT(client.raw(), StartsWith("HTTP/1.1 200 OK\r\n"));
}

}  // namespace
}  // namespace meshgate::dp
