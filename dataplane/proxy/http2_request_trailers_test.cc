// Request trailers through the proxy, across HTTP versions: an HTTP/2 client's trailers reach an
// HTTP/1.1 upstream in the last chunk of a chunked body (whether the body was buffered whole or
// streamed) and an HTTP/2 upstream as HTTP/2 trailers; an HTTP/1.1 client's chunked trailers reach
// an HTTP/2 upstream as HTTP/2 trailers; fields that frame a message are not passed as trailers;
// `te: trailers`, which gRPC servers require, is forwarded.
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/proxy/testing/http2_app.h"
#include "dataplane/proxy/testing/http2_request_path_harness.h"

namespace meshgate::dp {
namespace {

using namespace std::chrono_literals;
using testing::ConnectionScript;
using testing::describe;
using testing::firstDifference;
using testing::Http2App;
using testing::Http2Client;
using testing::Http2Request;
using testing::Http2Response;
using testing::http2UpstreamConfig;
using testing::json;
using testing::okResponse;
using testing::parseReceived;
using testing::pattern;
using testing::proxyConfig;
using testing::RawHttpClient;
using testing::Received;
using testing::ScriptedUpstream;
using testing::StandaloneProxy;

std::optional<std::string> fieldOf(const std::vector<http2::Field>& fields, std::string_view name) {
  for (const auto& field : fields)
    if (field.name == name) return field.value;
  return std::nullopt;
}

// What an HTTP/1.1 upstream received for one HTTP/2 request with trailers.
Received sendWithTrailers(StandaloneProxy& proxy, ScriptedUpstream& upstream,
                          const Http2Request& request) {
  Http2Client client(proxy.port());
  EXPECT_TRUE(client.ok()) << client.error();
  const Http2Response response = client.request(request, 20s);
  EXPECT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 200u);
  const auto requests = upstream.requests();
  if (requests.size() != 1u) {
    ADD_FAILURE() << requests.size() << " requests upstream";
    return {};
  }
  return parseReceived(requests[0]);
}

TEST(Http2RequestTrailersTest, ABufferedBodyGoesUpstreamChunkedWithItsTrailers) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  const std::string body = pattern(3000, 5);
  const Received received =
      sendWithTrailers(proxy, upstream,
                       Http2Request()
                           .withMethod("POST")
                           .withPath("/upload")
                           .withHeaders({{"content-length", "3000"}})
                           .withBody(body)
                           .withTrailers({{"x-checksum", "sha256=abc"}, {"x-rows", "12"}}));
  ASSERT_EQ(received.error, "");
  // A declared length cannot go with a chunked body (RFC 9112 section 6.2): it is dropped.
  EXPECT_EQ(received.framing, http::BodyFraming::Chunked);
  EXPECT_EQ(received.header("transfer-encoding"), "chunked");
  EXPECT_EQ(received.header("content-length"), std::nullopt);
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
  EXPECT_EQ(received.trailers, "x-checksum: sha256=abc\r\nx-rows: 12\r\n");
}

TEST(Http2RequestTrailersTest, TrailersWithoutABodyStillGoUpstream) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  const Received received = sendWithTrailers(
      proxy, upstream,
      Http2Request().withMethod("POST").withPath("/ping").withTrailers({{"x-done", "yes"}}));
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.framing, http::BodyFraming::Chunked);
  EXPECT_EQ(received.body, "");
  EXPECT_EQ(received.trailers, "x-done: yes\r\n");
}

TEST(Http2RequestTrailersTest, AStreamedBodyEndsWithItsTrailers) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("stored")).repeat());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 16 * 1024;  // so the body streams
  StandaloneProxy proxy(config);

  const std::string body = pattern(200 * 1024, 6);
  const Received received = sendWithTrailers(
      proxy, upstream,
      Http2Request().withMethod("POST").withPath("/stream").withBody(body).withTrailers(
          {{"x-checksum", "crc32=0badf00d"}}));
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(received.framing, http::BodyFraming::Chunked);
  EXPECT_EQ(received.body, body) << firstDifference(received.body, body);
  EXPECT_EQ(received.trailers, "x-checksum: crc32=0badf00d\r\n");
}

TEST(Http2RequestTrailersTest, TeTrailersIsForwardedAndOtherCodingsAreNot) {
  ScriptedUpstream upstream({}, ConnectionScript().respond(okResponse("ok")).repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  // HTTP/2 allows only "trailers" in TE (RFC 9113 section 8.2.2); HTTP/1.1 clients send more.
  const Http2Response response =
      client.request(Http2Request().withPath("/te").withHeaders({{"te", "trailers"}}));
  ASSERT_TRUE(response.complete()) << describe(response, client);
  RawHttpClient http1(proxy.port());
  ASSERT_TRUE(http1.send("GET /te1 HTTP/1.1\r\nHost: app.test\r\nTE: gzip, trailers;q=1\r\n\r\n"));
  ASSERT_TRUE(http1.readResponse()) << http1.error();
  ASSERT_TRUE(http1.send("GET /te2 HTTP/1.1\r\nHost: app.test\r\nTE: gzip\r\n\r\n"));
  ASSERT_TRUE(http1.readResponse()) << http1.error();

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(parseReceived(requests[0]).header("te"), "trailers");
  EXPECT_EQ(parseReceived(requests[1]).header("te"), "trailers");
  EXPECT_EQ(parseReceived(requests[2]).header("te"), std::nullopt);
}

TEST(Http2RequestTrailersTest, AnHttp2UpstreamGetsAnHttp2ClientsTrailers) {
  std::vector<http2::Field> seenHeaders;
  std::mutex seenMutex;
  Http2App app([&](const http2::RequestHead& head, const std::string& body) {
    std::lock_guard lock(seenMutex);
    seenHeaders = head.headers;
    return "got " + std::to_string(body.size());
  });
  StandaloneProxy proxy(http2UpstreamConfig(app.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const std::string body = pattern(5000, 7);
  const Http2Response response =
      client.request(Http2Request()
                         .withMethod("POST")
                         .withPath("/pkg.Service/Method")
                         .withHeaders({{"content-type", "application/grpc"}, {"te", "trailers"}})
                         .withBody(body)
                         .withTrailers({{"x-checksum", "sha256=def"}}));
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.body, "got 5000");
  const auto trailers = app.lastTrailers();
  EXPECT_EQ(fieldOf(trailers, "x-checksum"), "sha256=def");
  EXPECT_EQ(trailers.size(), 1u);
  std::lock_guard lock(seenMutex);
  EXPECT_EQ(fieldOf(seenHeaders, "te"), "trailers") << "gRPC servers refuse a call without it";
  EXPECT_EQ(fieldOf(seenHeaders, "content-length"), std::nullopt);
}

TEST(Http2RequestTrailersTest, AnHttp1ClientsChunkedTrailersReachAnHttp2Upstream) {
  Http2App app([](const http2::RequestHead&, const std::string& body) { return body; });
  StandaloneProxy proxy(http2UpstreamConfig(app.port()));
  RawHttpClient client(proxy.port());
  // Content-Length in a trailer section frames nothing and is not passed on.
  ASSERT_TRUE(client.send(
      "POST /upload HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\nX-Checksum: md5=1\r\nContent-Length: 99\r\nX-Rows:  3 \r\n\r\n"));
  const auto response = client.readResponse("POST");
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->body, "hello");
  const auto trailers = app.lastTrailers();
  ASSERT_EQ(trailers.size(), 2u);
  EXPECT_EQ(trailers[0].name, "x-checksum");
  EXPECT_EQ(trailers[0].value, "md5=1");
  EXPECT_EQ(trailers[1].name, "x-rows");
  EXPECT_EQ(trailers[1].value, "3");
}

}  // namespace
}  // namespace meshgate::dp
