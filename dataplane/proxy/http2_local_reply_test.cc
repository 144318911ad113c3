// HTTP/2 request-path tests of the proxy's own answers (harness:
// testing/http2_request_path_harness.h). Shows that local replies (404 for an unknown host, HEAD
// without a body) go out as HTTP/2, that a request without a host is a stream error, and that a
// gRPC request gets gRPC statuses instead of plain local replies.
#include <cstdint>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/proxy/testing/http2_request_path_harness.h"

namespace meshgate::dp {
namespace {

using testing::backendRule;
using testing::closedPort;
using testing::cluster;
using testing::ConnectionScript;
using testing::describe;
using testing::echoing;
using ::testing::HasSubstr;
using testing::Http2Client;
using testing::Http2Fields;
using testing::Http2Request;
using testing::Http2Response;
using testing::json;
using testing::proxyConfig;
using testing::route;
using testing::ScriptedUpstream;
using testing::StandaloneProxy;

// ---- Local replies ---------------------------------------------------------------------------

TEST(Http2RequestPathTest, AnUnknownHostIsAnswered404OverHttp2) {
  ScriptedUpstream upstream;
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response response = client.get("/", "nowhere.test");
  ASSERT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.status, 404u);
  EXPECT_EQ(response.body, "no route for this host and path\n");
  EXPECT_EQ(response.header("content-length"), std::to_string(response.body.size()));
  EXPECT_EQ(response.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(upstream.connectionCount(), 0u);

  // A local reply ends only its stream.
  const Http2Response second = client.get("/", "nowhere.test");
  EXPECT_EQ(second.status, 404u) << describe(second, client);
  EXPECT_FALSE(client.goAway());
}

TEST(Http2RequestPathTest, ARequestWithoutAHostIsAStreamError) {
  // Neither :authority nor host, or an empty :authority: a malformed request (RFC 9113 8.3.1),
  // reset by the codec (nghttp2) before the proxy sees it. The connection goes on.
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response none = client.request(Http2Request().withAuthority("").withPath("/none"));
  ASSERT_TRUE(none.closed) << describe(none, client);
  EXPECT_TRUE(none.resetByServer);
  EXPECT_EQ(none.errorCode, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(none.status, 0u);

  const Http2Response empty = client.request(
      Http2Request().withAuthority("").withPath("/empty").withHeaders({{":authority", ""}}));
  ASSERT_TRUE(empty.closed) << describe(empty, client);
  EXPECT_TRUE(empty.resetByServer);
  EXPECT_EQ(empty.errorCode, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));

  const Http2Response fine = client.get("/fine");
  EXPECT_TRUE(fine.complete()) << describe(fine, client);
  EXPECT_EQ(fine.body, "GET /fine HTTP/1.1");
  EXPECT_FALSE(client.goAway());
  EXPECT_EQ(upstream.requests().size(), 1u);
}

TEST(Http2RequestPathTest, HeadGetsTheHeadersWithoutABody) {
  ScriptedUpstream upstream(
      {}, ConnectionScript().respond("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n").repeat());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Response head = client.request(Http2Request().withMethod("HEAD").withPath("/file"));
  ASSERT_TRUE(head.complete()) << describe(head, client);
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.header("content-length"), "5");
  EXPECT_EQ(head.body, "");
  // The upstream connection was left clean: reused for the next HEAD.
  const Http2Response again = client.request(Http2Request().withMethod("HEAD").withPath("/file"));
  ASSERT_TRUE(again.complete()) << describe(again, client);
  EXPECT_EQ(upstream.connectionCount(), 1u);
}

TEST(Http2RequestPathTest, AGrpcRequestGetsGrpcStatusesForLocalReplies) {
  ScriptedUpstream upstream;
  json config = proxyConfig(upstream.port());
  config["routes"].push_back(route("down", "down.test", json::array({backendRule("down")})));
  config["clusters"].push_back(cluster("down", closedPort()));
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const Http2Fields grpcHeaders = {{"content-type", "application/grpc"}, {"te", "trailers"}};
  const std::string message("\0\0\0\0\5hello", 10);  // one length-prefixed gRPC message

  // No route: UNIMPLEMENTED.
  const Http2Response unknown = client.request(Http2Request()
                                                   .withMethod("POST")
                                                   .withAuthority("nowhere.test")
                                                   .withPath("/pkg.Service/Method")
                                                   .withHeaders(grpcHeaders)
                                                   .withBody(message));
  ASSERT_TRUE(unknown.complete()) << describe(unknown, client);
  EXPECT_EQ(unknown.status, 200u);
  EXPECT_EQ(unknown.header("content-type"), "application/grpc");
  EXPECT_EQ(unknown.header("grpc-status"), "12");
  EXPECT_EQ(unknown.header("grpc-message"), "no route for this host and path");
  EXPECT_EQ(unknown.body, "");

  // An upstream that refuses connections: UNAVAILABLE.
  const Http2Response down = client.request(Http2Request()
                                                .withMethod("POST")
                                                .withAuthority("down.test")
                                                .withPath("/pkg.Service/Method")
                                                .withHeaders(grpcHeaders)
                                                .withBody(message));
  ASSERT_TRUE(down.complete()) << describe(down, client);
  EXPECT_EQ(down.status, 200u);
  EXPECT_EQ(down.header("grpc-status"), "14");
  EXPECT_THAT(down.header("grpc-message").value_or(""), HasSubstr("upstream"));
  EXPECT_EQ(down.body, "");

  // The same failure for a request that is not gRPC: an HTTP status.
  const Http2Response plain = client.get("/", "down.test");
  ASSERT_TRUE(plain.complete()) << describe(plain, client);
  EXPECT_EQ(plain.status, 503u);
  EXPECT_EQ(plain.header("grpc-status"), std::nullopt);
}

}  // namespace
}  // namespace meshgate::dp
