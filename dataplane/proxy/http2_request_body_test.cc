// HTTP/2 request-path tests of bodies both ways (harness: testing/http2_request_path_harness.h).
// Shows that request bodies reach the HTTP/1.1 upstream byte-exact — buffered with a
// content-length, or streamed (chunked without one) —, that Expect: 100-continue is answered by
// the proxy, that the body limit (413) and the body idle timeout (408) hold, and that responses
// come back without HTTP/1.1 framing (chunked trailers as HTTP/2 trailers), larger than a
// flow-control window, and reset when the upstream cuts them short or the window stays shut.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/proxy/testing/http2_request_path_harness.h"

namespace meshgate::dp {
namespace {

using namespace std::chrono_literals;
using testing::ConnectionScript;
using testing::countRequests;
using testing::describe;
using testing::echoing;
using testing::firstDifference;
using testing::Http2Client;
using testing::Http2ClientOptions;
using testing::Http2Request;
using testing::Http2Response;
using testing::json;
using testing::okResponse;
using testing::parseReceived;
using testing::pattern;
using testing::proxyConfig;
using testing::Received;
using testing::ScriptedUpstream;
using testing::StandaloneProxy;

// ---- Request bodies --------------------------------------------------------------------------

TEST(Http2RequestPathTest, ASmallBodyWithContentLengthArrivesByteExact) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const std::string body = pattern(1024);
  const Http2Response response = client.request(
      Http2Request()
          .withMethod("POST")
          .withPath("/upload")
          .withHeaders({{"content-length", "1024"}, {"content-type", "application/octet-stream"}})
          .withBody(body));
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "stored");

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.method, "POST");
  EXPECT_EQ(received.headerCount("content-length"), 1u);
  EXPECT_EQ(received.header("content-length"), "1024");
  EXPECT_EQ(received.header("transfer-encoding"), std::nullopt);
  EXPECT_EQ(received.header("content-type"), "application/octet-stream");
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
}

TEST(Http2RequestPathTest, ABufferedBodyWithoutContentLengthGoesUpstreamWithOne) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));  // replay buffer: 64 KiB
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const std::string body = pattern(3000, 2);
  const Http2Response response =
      client.request(Http2Request().withMethod("PUT").withPath("/doc").withBody(body));
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.header("content-length"), "3000") << requests[0].substr(0, 400);
  EXPECT_EQ(received.header("transfer-encoding"), std::nullopt);
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
}

TEST(Http2RequestPathTest, ABodySentInPiecesWithoutContentLengthIsBufferedWhole) {
  // The body arrives in three DATA frames, some time apart; it still fits the replay buffer.
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id =
      client.submit(Http2Request().withMethod("POST").withPath("/pieces").withOpenBody());
  ASSERT_GT(id, 0) << client.error();
  client.sendBody(id, "first,", false);
  client.runFor(50ms);
  client.sendBody(id, "second,", false);
  client.runFor(50ms);
  EXPECT_EQ(upstream.connectionCount(), 0u) << "an incomplete buffered body went upstream";
  client.sendBody(id, "third", true);
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
  EXPECT_TRUE(client.response(id).complete()) << describe(client.response(id), client);

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  EXPECT_EQ(received.header("content-length"), "18");
  EXPECT_EQ(received.body, "first,second,third");
}

TEST(Http2RequestPathTest, ExpectContinueIsAnsweredByTheProxy) {
  // A client that asks for 100-continue waits for it before sending its body; the proxy, which
  // does not forward Expect, answers it itself — for a body it buffers and for one it streams.
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 16;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  for (const size_t size : {size_t{10}, size_t{5000}}) {
    SCOPED_TRACE(size);
    const int32_t id = client.submit(
        Http2Request()
            .withMethod("PUT")
            .withPath("/expect")
            .withHeaders({{"content-length", std::to_string(size)}, {"expect", "100-continue"}})
            .withOpenBody());
    ASSERT_TRUE(client.runUntil([&] { return client.response(id).status == 100; }, 2s))
        << "no 100 Continue: " << describe(client.response(id), client);
    const std::string body = pattern(size);
    client.sendBody(id, body, true);
    ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
    const Http2Response& response = client.response(id);
    EXPECT_TRUE(response.complete()) << describe(response, client);
    EXPECT_EQ(response.status, 200u);
    EXPECT_EQ(response.interim, 1u);
    const auto requests = upstream.requests();
    ASSERT_FALSE(requests.empty());
    const Received received = parseReceived(requests.back());
    EXPECT_EQ(received.header("expect"), std::nullopt);
    EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
  }
}

TEST(Http2RequestPathTest, ALargeBodyWithoutContentLengthStreamsUpstreamChunked) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 16 * 1024;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  // Over the codec's stream window (256 KiB) and connection window (1 MiB) too: the proxy must
  // reopen them as it forwards.
  const std::string body = pattern(1024 * 1024 + 7, 3);
  const Http2Response response =
      client.request(Http2Request().withMethod("POST").withPath("/big").withBody(body), 20s);
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "stored");

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.framing, http::BodyFraming::Chunked);
  EXPECT_EQ(received.header("transfer-encoding"), "chunked");
  EXPECT_EQ(received.header("content-length"), std::nullopt);
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
}

TEST(Http2RequestPathTest, ALargeBodyWithContentLengthStreamsUpstreamWithIt) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 16 * 1024;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const std::string body = pattern(1024 * 1024, 4);
  const Http2Response response =
      client.request(Http2Request()
                         .withMethod("POST")
                         .withPath("/big")
                         .withHeaders({{"content-length", std::to_string(body.size())}})
                         .withBody(body),
                     20s);
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Received received = parseReceived(requests[0]);
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.framing, http::BodyFraming::ContentLength);
  EXPECT_EQ(received.header("content-length"), std::to_string(body.size()));
  EXPECT_EQ(received.header("transfer-encoding"), std::nullopt);
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
}

TEST(Http2RequestPathTest, ABodyOverTheBodyLimitIsRefused) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxBodyBytes"] = 1000;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.request(Http2Request()
                                                    .withMethod("POST")
                                                    .withPath("/big")
                                                    .withHeaders({{"content-length", "5000"}})
                                                    .withBody(pattern(5000)));
  EXPECT_EQ(response.status, 413u) << describe(response, client);
  EXPECT_EQ(response.body, "request body too large\n");
  EXPECT_EQ(upstream.requests().size(), 0u);
  // The connection goes on.
  const Http2Response next = client.get("/after");
  EXPECT_TRUE(next.complete()) << describe(next, client);
}

TEST(Http2RequestPathTest, AStreamedBodyWithoutContentLengthIsCutAtTheBodyLimit) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxBodyBytes"] = 1000;
  config["limits"]["maxRetryBufferBytes"] = 16;
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response =
      client.request(Http2Request().withMethod("POST").withPath("/big").withBody(pattern(5000)));
  EXPECT_EQ(response.status, 413u) << describe(response, client);
  EXPECT_EQ(response.body, "request body too large\n");
  EXPECT_EQ(countRequests(upstream, "POST /big "), 0u) << "a whole over-limit body went upstream";
  const Http2Response next = client.get("/after");
  EXPECT_TRUE(next.complete()) << describe(next, client);
}

TEST(Http2RequestPathTest, ABodyThatStopsComingIsAnswered408AtTheIdleTimeout) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["timeouts"]["idle"] = "300ms";
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id = client.submit(Http2Request()
                                       .withMethod("POST")
                                       .withPath("/stalled")
                                       .withHeaders({{"content-length", "10"}})
                                       .withOpenBody());
  client.sendBody(id, "abc", false);
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); }, 5s)) << client.error();
  EXPECT_EQ(client.response(id).status, 408u) << describe(client.response(id), client);
  EXPECT_EQ(client.response(id).body, "request body timeout\n");
  EXPECT_EQ(upstream.connectionCount(), 0u);
}

// ---- Responses -------------------------------------------------------------------------------

TEST(Http2RequestPathTest, AChunkedResponseLosesItsFramingAndKeepsItsTrailers) {
  ScriptedUpstream upstream({}, ConnectionScript()
                                    .respond("HTTP/1.1 200 OK\r\n"
                                             "content-type: application/grpc\r\n"
                                             "transfer-encoding: chunked\r\n"
                                             "connection: keep-alive\r\n"
                                             "keep-alive: timeout=30\r\n"
                                             "trailer: grpc-status, grpc-message\r\n"
                                             "\r\n"
                                             "5\r\nhello\r\n"
                                             "6;ext=1\r\n world\r\n"
                                             "0\r\n"
                                             "grpc-status: 0\r\n"
                                             "Grpc-Message: all fine\r\n"
                                             "\r\n")
                                    .repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response =
      client.request(Http2Request()
                         .withMethod("POST")
                         .withPath("/pkg.Service/Method")
                         .withHeaders({{"content-type", "application/grpc"}, {"te", "trailers"}})
                         .withBody(std::string("\0\0\0\0\0", 5)));
  // nghttp2's client resets a stream whose response carries connection-specific fields.
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "hello world");
  EXPECT_EQ(response.header("content-type"), "application/grpc");
  EXPECT_EQ(response.header("transfer-encoding"), std::nullopt);
  EXPECT_EQ(response.header("connection"), std::nullopt);
  EXPECT_EQ(response.header("keep-alive"), std::nullopt);
  EXPECT_EQ(response.trailer("grpc-status"), "0");
  EXPECT_EQ(response.trailer("grpc-message"), "all fine");

  // The upstream connection ended cleanly after the last chunk: it serves the next stream.
  const Http2Response again = client.request(Http2Request()
                                                 .withMethod("POST")
                                                 .withPath("/pkg.Service/Method")
                                                 .withHeaders({{"te", "trailers"}})
                                                 .withBody(std::string("\0\0\0\0\0", 5)));
  ASSERT_TRUE(again.complete()) << describe(again, client);
  EXPECT_EQ(again.trailer("grpc-status"), "0");
  EXPECT_EQ(upstream.connectionCount(), 1u);
}

TEST(Http2RequestPathTest, AResponseLargerThanTheFlowControlWindowArrivesWhole) {
  const std::string big = pattern(2 * 1024 * 1024 + 3, 5);
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse(big)).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());  // a 64 KiB window: the proxy must wait for WINDOW_UPDATEs
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.get("/big");
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.header("content-length"), std::to_string(big.size()));
  EXPECT_EQ(response.body, big) << firstDifference(response.body, big);
}

TEST(Http2RequestPathTest, ALargeChunkedResponseArrivesWholeAlongsideOtherStreams) {
  // Chunks of many sizes, so chunk boundaries fall anywhere in the proxy's reads.
  const std::string big = pattern(1536 * 1024, 6);
  std::string chunked;
  for (size_t at = 0, step = 1; at < big.size(); step = step * 7 % 40000 + 1) {
    const size_t n = std::min(step, big.size() - at);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    chunked += size;
    chunked.append(big, at, n);
    chunked += "\r\n";
    at += n;
  }
  chunked += "0\r\n\r\n";
  ScriptedUpstream upstream({ConnectionScript().respond(
                                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunked)},
                            echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t bigStream = client.submit("GET", "app.test", "/big");
  ASSERT_TRUE(client.runUntil([&] { return upstream.requests().size() == 1; })) << client.error();
  std::vector<int32_t> small;
  for (int i = 0; i < 5; ++i)
    small.push_back(client.submit("GET", "app.test", "/small"));
  ASSERT_TRUE(client.runUntil([&] {
    if (!client.closed(bigStream)) return false;
    for (const int32_t id : small)
      if (!client.closed(id)) return false;
    return true;
  })) << client.error();
  const Http2Response& response = client.response(bigStream);
  EXPECT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.body, big) << firstDifference(response.body, big);
  EXPECT_TRUE(response.trailers.empty());
  for (const int32_t id : small) {
    EXPECT_TRUE(client.response(id).complete()) << describe(client.response(id), client);
    EXPECT_EQ(client.response(id).body, "GET /small HTTP/1.1");
  }
}

TEST(Http2RequestPathTest, AnUpstreamCutShortResetsTheStream) {
  ScriptedUpstream upstream({ConnectionScript()
                                 .readRequest()
                                 .write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
                                 .close()},
                            echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.get("/short");
  ASSERT_TRUE(response.closed) << describe(response, client);
  EXPECT_TRUE(response.resetByServer) << "a truncated body must not look complete";
  EXPECT_NE(response.errorCode, 0u);
  EXPECT_EQ(response.status, 200u);
  // The connection goes on.
  const Http2Response next = client.get("/next");
  EXPECT_TRUE(next.complete()) << describe(next, client);
  EXPECT_EQ(next.body, "GET /next HTTP/1.1");
}

TEST(Http2RequestPathTest, AResponseEndedByTheUpstreamsCloseEndsTheStream) {
  ScriptedUpstream upstream({ConnectionScript()
                                 .readRequest()
                                 .write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                                 .write("until the close")
                                 .close()},
                            echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.get("/until-close");
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.body, "until the close");
  EXPECT_EQ(response.header("connection"), std::nullopt);
  const Http2Response next = client.get("/next");
  EXPECT_TRUE(next.complete()) << describe(next, client);
  EXPECT_EQ(upstream.connectionCount(), 2u) << "a connection that ended was pooled";
}

TEST(Http2RequestPathTest, AStreamWhoseWindowStaysShutIsResetAtTheIdleTimeout) {
  // The client announces a stream window of 0 and never opens it: the response cannot move.
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse(pattern(1024 * 1024))));
  json config = proxyConfig(upstream.port());
  config["timeouts"]["idle"] = "500ms";
  StandaloneProxy proxy(config);
  Http2ClientOptions options;
  options.initialWindowSize = 0;
  Http2Client client(proxy.port(), options);
  ASSERT_TRUE(client.ok()) << client.error();

  const auto start = std::chrono::steady_clock::now();
  const int32_t id = client.submit("GET", "app.test", "/stuck");
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); }, 5s)) << client.error();
  const Http2Response& response = client.response(id);
  EXPECT_EQ(response.status, 200u);
  EXPECT_TRUE(response.resetByServer) << describe(response, client);
  EXPECT_EQ(response.body, "");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
  // The upstream connection, its response unread, is not kept.
  EXPECT_TRUE(upstream.waitUntil([](const ScriptedUpstream::Records& records) {
    return !records.empty() && (records[0].peerClosed || records[0].closed);
  }));
}

}  // namespace
}  // namespace meshgate::dp
