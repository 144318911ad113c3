// gRPC details the proxy reads and writes: content types, grpc-timeout, grpc-status, the status of
// a local reply and its HTTP/2 form.
#include "dataplane/proxy/grpc_protocol.h"

#include <gtest/gtest.h>

#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/http2_local_reply.h"

namespace meshgate::dp {
namespace {

using namespace std::chrono_literals;

TEST(GrpcProtocolTest, RecognisesGrpcContentTypes) {
  EXPECT_TRUE(isGrpcContentType("application/grpc"));
  EXPECT_TRUE(isGrpcContentType("application/grpc+proto"));
  EXPECT_TRUE(isGrpcContentType("Application/GRPC;charset=utf-8"));
  EXPECT_FALSE(isGrpcContentType("application/grpc-web"));
  EXPECT_FALSE(isGrpcContentType("application/json"));
  EXPECT_FALSE(isGrpcContentType("application/grp"));
}

TEST(GrpcProtocolTest, ParsesGrpcTimeoutInEveryUnit) {
  EXPECT_EQ(parseGrpcTimeout("1H"), std::optional(3'600'000ms));
  EXPECT_EQ(parseGrpcTimeout("2M"), std::optional(120'000ms));
  EXPECT_EQ(parseGrpcTimeout("3S"), std::optional(3'000ms));
  EXPECT_EQ(parseGrpcTimeout("250m"), std::optional(250ms));
  EXPECT_EQ(parseGrpcTimeout("1500u"), std::optional(2ms));  // rounded up
  EXPECT_EQ(parseGrpcTimeout("1n"), std::optional(1ms));
  EXPECT_EQ(parseGrpcTimeout("0m"), std::optional(0ms));
  EXPECT_EQ(parseGrpcTimeout("99999999H"),
            std::optional(std::chrono::milliseconds(100LL * 365 * 24 * 3600 * 1000)));  // saturated
}

TEST(GrpcProtocolTest, RefusesMalformedGrpcTimeouts) {
  EXPECT_EQ(parseGrpcTimeout(""), std::nullopt);
  EXPECT_EQ(parseGrpcTimeout("S"), std::nullopt);
  EXPECT_EQ(parseGrpcTimeout("10"), std::nullopt);
  EXPECT_EQ(parseGrpcTimeout("10s"), std::nullopt);  // units are case-sensitive: s is not one
  EXPECT_EQ(parseGrpcTimeout("-1S"), std::nullopt);
  EXPECT_EQ(parseGrpcTimeout("123456789S"), std::nullopt);  // more than 8 digits
}

TEST(GrpcProtocolTest, FindsTheGrpcStatusInHeaders) {
  std::vector<http::Header> headers = {{"content-type", "application/grpc"}, {"grpc-status", "14"}};
  EXPECT_EQ(grpcStatusIn(headers), std::optional(14u));
  headers[1].value = "x";
  EXPECT_EQ(grpcStatusIn(headers), std::nullopt);
  headers.pop_back();
  EXPECT_EQ(grpcStatusIn(headers), std::nullopt);
}

TEST(GrpcProtocolTest, MapsLocalReplyStatusesAsGrpcDocumentsThem) {
  EXPECT_EQ(grpcStatusForHttp(400), 13u);
  EXPECT_EQ(grpcStatusForHttp(401), 16u);
  EXPECT_EQ(grpcStatusForHttp(403), 7u);
  EXPECT_EQ(grpcStatusForHttp(404), 12u);
  EXPECT_EQ(grpcStatusForHttp(429), 8u);
  EXPECT_EQ(grpcStatusForHttp(503), 14u);
  EXPECT_EQ(grpcStatusForHttp(504), 4u);
  EXPECT_EQ(grpcStatusForHttp(500), 2u);
}

TEST(GrpcProtocolTest, PercentEncodesTheMessage) {
  EXPECT_EQ(percentEncodeGrpcMessage("no route: 100%"), "no route: 100%25");
  EXPECT_EQ(percentEncodeGrpcMessage("a\nb\xc3\xa9"), "a%0Ab%C3%A9");
}

TEST(GrpcProtocolTest, AGrpcLocalReplyIsTrailersOnly) {
  const Http2LocalReply reply =
      toHttp2(makeLocalReply(503, "upstream connect failure\n", "retry-after: 1\r\n"), true, false);
  EXPECT_EQ(reply.status, 200u);
  EXPECT_TRUE(reply.body.empty());
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& field : reply.headers)
    fields.emplace_back(field.name, field.value);
  EXPECT_EQ(fields, (std::vector<std::pair<std::string, std::string>>{
                        {"content-type", "application/grpc"},
                        {"grpc-status", "14"},
                        {"grpc-message", "upstream connect failure"},
                        {"retry-after", "1"}}));
}

TEST(GrpcProtocolTest, APlainLocalReplyKeepsItsStatusAndBody) {
  const Http2LocalReply reply = toHttp2(makeLocalReply(404, "no route\n"), false, false);
  EXPECT_EQ(reply.status, 404u);
  EXPECT_EQ(reply.body, "no route\n");
  ASSERT_EQ(reply.headers.size(), 2u);
  EXPECT_EQ(reply.headers[1].name, "content-length");
  EXPECT_EQ(reply.headers[1].value, "9");
  EXPECT_TRUE(toHttp2(makeLocalReply(404, "no route\n"), false, true).body.empty());
}

}  // namespace
}  // namespace meshgate::dp
