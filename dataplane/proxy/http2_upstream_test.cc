// In-process tests of HTTP/2 upstreams (clusters' http2Ports): an HTTP/1.1 client's requests go
// out as HTTP/2 streams to an application that speaks only HTTP/2 (testing/http2_app.h), share
// one multiplexed connection, carry their bodies without HTTP/1.1 framing, and come back to the
// client framed for HTTP/1.1 (to an HTTP/1.0 client, ended by the close); an application that is
// not there is a connect failure.
#include <string>

#include <gtest/gtest.h>

#include "dataplane/proxy/testing/http2_app.h"
#include "dataplane/proxy/testing/raw_http_client.h"
#include "dataplane/proxy/testing/standalone_proxy.h"

namespace meshgate::dp {
namespace {

using testing::closedPort;
using testing::get;
using testing::Http2App;
using testing::http2UpstreamConfig;
using testing::json;
using testing::RawHttpClient;
using testing::request;
using testing::StandaloneProxy;

TEST(Http2UpstreamTest, AnHttp1RequestGoesOutAsAStreamAndComesBackAsHttp1) {
  Http2App app([](const http2::RequestHead& head, const std::string&) {
    std::string answer = head.method + " " + head.path + " authority=" + head.authority;
    for (const auto& field : head.headers)
      if (field.name == "x-forwarded-proto" || field.name == "connection" ||
          field.name == "transfer-encoding")
        answer += " " + field.name + "=" + field.value;
    return answer;
  });
  StandaloneProxy proxy(http2UpstreamConfig(app.port()));
  RawHttpClient client(proxy.port());
  ASSERT_TRUE(client.send(get("/orders?id=7")));
  const auto response = client.readResponse();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->header("x-protocol"), "h2");
  EXPECT_EQ(response->body, "GET /orders?id=7 authority=app.test x-forwarded-proto=http");

  // Keep-alive on the client side, one multiplexed connection on the upstream side.
  ASSERT_TRUE(client.send(get("/second")));
  const auto second = client.readResponse();
  ASSERT_TRUE(second) << client.error();
  EXPECT_EQ(second->body, "GET /second authority=app.test x-forwarded-proto=http");
  EXPECT_EQ(app.requests(), 2u);
}

TEST(Http2UpstreamTest, RequestBodiesArriveWithoutHttp1Framing) {
  Http2App app([](const http2::RequestHead&, const std::string& body) {
    return "got " + std::to_string(body.size()) + ":" + body.substr(0, 16);
  });
  StandaloneProxy proxy(http2UpstreamConfig(app.port()));
  RawHttpClient client(proxy.port());
  ASSERT_TRUE(client.send(request("POST", "/upload", "app.test", "Content-Length: 11\r\n") +
                          "hello world"));
  const auto sized = client.readResponse("POST");
  ASSERT_TRUE(sized) << client.error();
  EXPECT_EQ(sized->body, "got 11:hello world");

  ASSERT_TRUE(client.send(request("POST", "/upload", "app.test", "Transfer-Encoding: chunked\r\n") +
                          "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  const auto chunked = client.readResponse("POST");
  ASSERT_TRUE(chunked) << client.error();
  EXPECT_EQ(chunked->body, "got 11:hello world") << "the chunk framing is not part of the body";
}

TEST(Http2UpstreamTest, ALargeBodyStreamsBothWays) {
  Http2App app([](const http2::RequestHead&, const std::string& body) { return body; });
  json config = http2UpstreamConfig(app.port());
  config["limits"]["maxRetryBufferBytes"] = 1024;  // so the request body streams
  StandaloneProxy proxy(config);
  std::string body(1 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>('a' + i % 26);
  RawHttpClient client(proxy.port(), std::chrono::seconds(20));
  ASSERT_TRUE(client.send(request("POST", "/echo", "app.test",
                                  "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                          body));
  const auto echoed = client.readResponse("POST");
  ASSERT_TRUE(echoed) << client.error();
  EXPECT_EQ(echoed->status, 200u);
  EXPECT_EQ(echoed->body.size(), body.size());
  EXPECT_TRUE(echoed->body == body) << "byte for byte";
}

TEST(Http2UpstreamTest, ABodyOfUnknownLengthIsChunkedForHttp11AndEndsAtTheCloseForHttp10) {
  Http2App app([](const http2::RequestHead&, const std::string&) { return "hello"; });
  app.setAnnounceLength(false);
  StandaloneProxy proxy(http2UpstreamConfig(app.port()));

  RawHttpClient http11(proxy.port());
  ASSERT_TRUE(http11.send(get("/")));
  const auto chunked = http11.readResponse();
  ASSERT_TRUE(chunked) << http11.error();
  EXPECT_EQ(chunked->header("transfer-encoding"), "chunked");
  EXPECT_EQ(chunked->body, "5\r\nhello\r\n0\r\n\r\n");

  // HTTP/1.0 has no chunked coding: the connection's close ends the body, even when the client
  // asked to keep it.
  RawHttpClient http10(proxy.port());
  ASSERT_TRUE(http10.send("GET / HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\n"));
  const auto tail = http10.readUntilClosed();
  ASSERT_TRUE(tail.closed) << http10.error();
  EXPECT_TRUE(tail.bytes.starts_with("HTTP/1.0 200 ")) << tail.bytes;
  EXPECT_EQ(tail.bytes.find("transfer-encoding"), std::string::npos) << tail.bytes;
  EXPECT_EQ(tail.bytes.find("connection: keep-alive"), std::string::npos) << tail.bytes;
  EXPECT_TRUE(tail.bytes.ends_with("\r\n\r\nhello")) << tail.bytes;
}

TEST(Http2UpstreamTest, AGrpcHealthCheckFollowsTheServingStatus) {
  using meshgate::testing::eventually;
  Http2App app;
  json config = http2UpstreamConfig(app.port());
  config["clusters"][0]["healthCheck"] = {{"path", "/grpc.health.v1.Health/Check"},
                                          {"interval", "100ms"},
                                          {"timeout", "100ms"},
                                          {"healthyThreshold", 1},
                                          {"unhealthyThreshold", 1}};
  StandaloneProxy proxy(config);
  const std::string healthy =
      "meshgate_proxy_endpoint_healthy{cluster=\"app\",endpoint=\"127.0.0.1:" +
      std::to_string(app.port()) + "\"} ";
  const auto gauge = [&] {
    const std::string stats = proxy.stats();
    const size_t at = stats.find(healthy);
    return at == std::string::npos ? std::string("?") : stats.substr(at + healthy.size(), 1);
  };
  EXPECT_TRUE(eventually([&] { return gauge() == "1"; })) << gauge();
  app.setServing(false);
  EXPECT_TRUE(eventually([&] { return gauge() == "0"; })) << "NOT_SERVING is unhealthy";
  app.setServing(true);
  EXPECT_TRUE(eventually([&] { return gauge() == "1"; })) << gauge();
}

TEST(Http2UpstreamTest, AnUpstreamThatIsNotThereIsAConnectFailure) {
  StandaloneProxy proxy(http2UpstreamConfig(closedPort()));
  RawHttpClient client(proxy.port());
  ASSERT_TRUE(client.send(get("/")));
  const auto response = client.readResponse();
  ASSERT_TRUE(response) << client.error();
  EXPECT_EQ(response->status, 503u);
  EXPECT_EQ(response->body, "upstream connect failure\n");
}

}  // namespace
}  // namespace meshgate::dp
