// Head rewriting: hop-by-hop headers, forwarding headers, route header edits, upgrades.
#include "dataplane/proxy/forwarded_head.h"

#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The head's views point into the text: both live as long as the test's Parsed object.
template <class Head>
struct Parsed {
  std::string text;
  Head head;
  const Head* operator->() const { return &head; }
};

std::unique_ptr<Parsed<http::RequestHead>> parseRequest(std::string text) {
  auto parsed = std::make_unique<Parsed<http::RequestHead>>();
  parsed->text = std::move(text);
  EXPECT_EQ(http::parseRequestHead(parsed->text, {}, parsed->head), http::ParseStatus::Complete);
  return parsed;
}

std::unique_ptr<Parsed<http::ResponseHead>> parseResponse(std::string text) {
  auto parsed = std::make_unique<Parsed<http::ResponseHead>>();
  parsed->text = std::move(text);
  EXPECT_EQ(http::parseResponseHead(parsed->text, "GET", {}, parsed->head),
            http::ParseStatus::Complete);
  return parsed;
}

TEST(ForwardedHeadTest, DropsHopByHopHeadersAndThoseNamedByConnection) {
  const std::string text =
      "GET /a HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: 5\r\n"
      "X-Secret: s\r\nTE: gzip\r\nProxy-Connection: x\r\nAccept: */*\r\n\r\n";
  const auto request = parseRequest(text);
  std::string out;
  writeUpstreamRequestHead(out, request->head,
                           {.path = "/a", .host = "shop", .clientIp = "10.0.0.9"});
  EXPECT_THAT(out, HasSubstr("Accept: */*\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("Keep-Alive")));
  EXPECT_THAT(out, Not(HasSubstr("X-Secret")));
  EXPECT_THAT(out, Not(HasSubstr("TE:")));
  EXPECT_THAT(out, Not(HasSubstr("te:")));
  EXPECT_THAT(out, Not(HasSubstr("Proxy-Connection")));
  EXPECT_THAT(out, Not(HasSubstr("onnection:")));
}

TEST(ForwardedHeadTest, TeIsCutDownToTrailers) {
  const auto request =
      parseRequest("POST /g HTTP/1.1\r\nHost: g\r\nTE: deflate, Trailers;q=0.5\r\nTE: x\r\n\r\n");
  std::string out;
  writeUpstreamRequestHead(out, request->head, {.path = "/g", .host = "g", .clientIp = "10.0.0.9"});
  EXPECT_THAT(out, HasSubstr("\r\nte: trailers\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("deflate")));
  EXPECT_THAT(out, Not(HasSubstr("TE:")));
}

TEST(ForwardedHeadTest, AChunkCarriesItsSizeInHex) {
  std::string out = "x";
  writeChunk(out, std::string(26, 'a'));
  EXPECT_EQ(out, "x1a\r\n" + std::string(26, 'a') + "\r\n");
}

TEST(ForwardedHeadTest, TrailersCrossVersionsWithoutFramingFields) {
  std::string chunk = "leading";
  writeLastChunk(chunk, {{"x-sum", "1"}, {"content-length", "9"}, {"host", "h"}, {"x-b", "2 3"}});
  EXPECT_EQ(chunk, "leading0\r\nx-sum: 1\r\nx-b: 2 3\r\n\r\n");
  std::string none;
  writeLastChunk(none, {});
  EXPECT_EQ(none, "0\r\n\r\n");

  std::vector<http2::Field> fields{{"stale", "x"}};
  collectHttp2TrailerFields(
      fields, "X-Sum: 1\r\nTransfer-Encoding: chunked\r\nTrailer: x\r\nX-B:  2 3 \r\n");
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].name, "x-sum");
  EXPECT_EQ(fields[0].value, "1");
  EXPECT_EQ(fields[1].name, "x-b");
  EXPECT_EQ(fields[1].value, "2 3");
}

TEST(ForwardedHeadTest, AppendsForwardedForAndViaAndSetsProtoAndHost) {
  const auto request = parseRequest(
      "GET /a?x=1 HTTP/1.1\r\nHost: Shop.example.com\r\nX-Forwarded-For: 1.2.3.4\r\n"
      "X-Forwarded-Proto: https\r\nVia: 1.1 edge\r\n\r\n");
  std::string out;
  writeUpstreamRequestHead(out, request->head,
                           {.path = "/b",
                            .query = "x=1",
                            .host = "backend.internal",
                            .clientIp = "10.0.0.9",
                            .requestId = "id-1",
                            .tls = false});
  EXPECT_THAT(out, HasSubstr("GET /b?x=1 HTTP/1.1\r\n"));
  EXPECT_THAT(out, HasSubstr("host: backend.internal\r\n"));
  EXPECT_THAT(out, HasSubstr("x-forwarded-for: 1.2.3.4, 10.0.0.9\r\n"));
  // The client cannot claim https on a plain listener.
  EXPECT_THAT(out, HasSubstr("x-forwarded-proto: http\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("X-Forwarded-Proto: https")));
  EXPECT_THAT(out, HasSubstr("x-forwarded-host: Shop.example.com\r\n"));
  EXPECT_THAT(out, HasSubstr("x-request-id: id-1\r\n"));
  EXPECT_THAT(out, HasSubstr("via: 1.1 edge, 1.1 meshgate\r\n"));
}

TEST(ForwardedHeadTest, KeepsTheClientsRequestIdAndDropsExpect) {
  const auto request = parseRequest(
      "POST / HTTP/1.1\r\nHost: a\r\nX-Request-Id: mine\r\nExpect: 100-continue\r\n"
      "Content-Length: 3\r\n\r\n");
  std::string out;
  writeUpstreamRequestHead(out, request->head, {.path = "/", .host = "a", .clientIp = "1.1.1.1"});
  EXPECT_THAT(out, HasSubstr("X-Request-Id: mine\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("x-request-id")));
  EXPECT_THAT(out, Not(HasSubstr("Expect")));
  EXPECT_THAT(out, HasSubstr("Content-Length: 3\r\n"));
}

TEST(ForwardedHeadTest, AppliesRouteHeaderEdits) {
  const auto request =
      parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX-Remove: r\r\nX-Set: old\r\nX-Add: 1\r\n\r\n");
  HeaderEdits edits;
  edits.set = {{"x-set", "new"}};
  edits.add = {{"x-add", "2"}};
  edits.remove = {"x-remove"};
  std::string out;
  writeUpstreamRequestHead(out, request->head,
                           {.path = "/", .host = "a", .clientIp = "1.1.1.1", .edits = &edits});
  EXPECT_THAT(out, Not(HasSubstr("X-Remove")));
  EXPECT_THAT(out, Not(HasSubstr("old")));
  EXPECT_THAT(out, HasSubstr("x-set: new\r\n"));
  EXPECT_THAT(out, HasSubstr("X-Add: 1\r\n"));
  EXPECT_THAT(out, HasSubstr("x-add: 2\r\n"));
}

TEST(ForwardedHeadTest, ForwardsAnUpgradeWithItsConnectionHeader) {
  const auto request = parseRequest(
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: k\r\n\r\n");
  ASSERT_TRUE(request->head.upgrade);
  std::string out;
  writeUpstreamRequestHead(out, request->head, {.path = "/ws", .host = "a", .clientIp = "1.1.1.1"});
  EXPECT_THAT(out, HasSubstr("upgrade: websocket\r\n"));
  EXPECT_THAT(out, HasSubstr("connection: upgrade\r\n"));
  EXPECT_THAT(out, HasSubstr("Sec-WebSocket-Key: k\r\n"));
}

TEST(ForwardedHeadTest, OnlyAnUpgradeResponseKeepsItsUpgradeHeader) {
  const auto plain = parseResponse("HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n");
  std::string out;
  writeDownstreamResponseHead(out, plain->head, {});
  EXPECT_THAT(out, Not(HasSubstr("h2c")));
  const auto switching = parseResponse(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  writeDownstreamResponseHead(out, switching->head, {});
  EXPECT_THAT(out, HasSubstr("Upgrade: websocket\r\n"));
  EXPECT_THAT(out, HasSubstr("connection: upgrade\r\n"));
}

TEST(ForwardedHeadTest, AnHttp10RequestAsksTheUpstreamToKeepTheConnection) {
  const auto request = parseRequest("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
  std::string out;
  writeUpstreamRequestHead(out, request->head, {.path = "/", .host = "a", .clientIp = "1.1.1.1"});
  EXPECT_THAT(out, HasSubstr("GET / HTTP/1.0\r\n"));
  EXPECT_THAT(out, HasSubstr("connection: keep-alive\r\n"));
}

TEST(ForwardedHeadTest, ResponseLosesHopByHopHeadersAndSaysCloseWhenClosing) {
  const auto response = parseResponse(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nX-Internal: 1\r\n"
      "Keep-Alive: timeout=5\r\nContent-Length: 2\r\nX-Remove: r\r\n\r\n");
  HeaderEdits edits;
  edits.set = {{"x-frame-options", "DENY"}};
  edits.remove = {"x-remove"};
  std::string out;
  writeDownstreamResponseHead(out, response->head, {.keepAlive = false, .edits = &edits});
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(out, HasSubstr("Content-Length: 2\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("X-Internal")));
  EXPECT_THAT(out, Not(HasSubstr("Keep-Alive")));
  EXPECT_THAT(out, Not(HasSubstr("X-Remove")));
  EXPECT_THAT(out, HasSubstr("x-frame-options: DENY\r\n"));
  EXPECT_THAT(out, HasSubstr("connection: close\r\n"));
}

TEST(ForwardedHeadTest, RequestIdsAreVersion4Uuids) {
  std::string id, other;
  formatRequestId(id, 0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  EXPECT_EQ(id, "01234567-89ab-4def-bedc-ba9876543210");
  formatRequestId(id, 1, 2);
  formatRequestId(other, 1, 3);
  EXPECT_NE(id, other);
}

}  // namespace
}  // namespace meshgate::dp
