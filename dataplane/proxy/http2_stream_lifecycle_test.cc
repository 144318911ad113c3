// HTTP/2 request-path tests of how streams and connections end (harness:
// testing/http2_request_path_harness.h). Shows that a stream the client resets leaves the others
// alone and — reset before it started, as in a rapid-reset flood — never reaches the upstream,
// that a malformed connection ends with a GOAWAY while the proxy keeps serving, and that an idle
// timeout or a drain sends GOAWAY and lets open streams finish.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataplane/http2/server_codec.h"
#include "dataplane/proxy/testing/http2_request_path_harness.h"

namespace meshgate::dp {
namespace {

using namespace std::chrono_literals;
using meshgate::testing::eventually;
using testing::ConnectionScript;
using testing::countRequests;
using testing::describe;
using testing::DrainingProxy;
using testing::echoing;
using testing::Http2Client;
using testing::Http2ClientOptions;
using testing::Http2Request;
using testing::Http2Response;
using testing::json;
using ::testing::Not;
using testing::okResponse;
using testing::pattern;
using testing::proxyConfig;
using testing::rawFrame;
using testing::rawGet;
using testing::rawReset;
using testing::ScriptedUpstream;
using testing::StandaloneProxy;

// ---- Resets and malformed input --------------------------------------------------------------

TEST(Http2RequestPathTest, AStreamResetWhileTheUpstreamIsSlowLeavesTheOthersAlone) {
  // Connection 0 takes the slow request and never answers; the others echo.
  ScriptedUpstream upstream({ConnectionScript().readRequest()}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t slow = client.submit("GET", "app.test", "/slow");
  ASSERT_GT(slow, 0);
  ASSERT_TRUE(client.runUntil([&] { return upstream.requests().size() == 1; })) << client.error();
  client.resetStream(slow);
  ASSERT_TRUE(client.runUntil([&] { return client.closed(slow); })) << client.error();
  // The proxy gives up the upstream request of the reset stream.
  EXPECT_TRUE(upstream.waitForPeerClose(0));

  for (int i = 0; i < 3; ++i) {
    const Http2Response response = client.get("/after/" + std::to_string(i));
    ASSERT_TRUE(response.complete()) << describe(response, client);
    EXPECT_EQ(response.body, "GET /after/" + std::to_string(i) + " HTTP/1.1");
  }
  EXPECT_FALSE(client.goAway());
  // Not retried elsewhere: the upstream saw /slow once.
  size_t slowRequests = 0;
  for (const auto& request : upstream.requests())
    slowRequests += request.starts_with("GET /slow ") ? 1 : 0;
  EXPECT_EQ(slowRequests, 1u);

  Http2Client another(proxy.port());
  const Http2Response fresh = another.get("/fresh");
  EXPECT_TRUE(fresh.complete()) << describe(fresh, another);
}

TEST(Http2RequestPathTest, AStreamResetRightAfterItsHeadersNeverReachesTheUpstream) {
  // HEADERS and RST_STREAM in one write: the proxy reads both before the stream's request goes
  // anywhere, and must not send it upstream (each such request is work the client made the
  // upstream do for nothing — the amplification of CVE-2023-44487).
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client client(proxy.port(), raw);
  ASSERT_TRUE(client.ok()) << client.error();

  ASSERT_TRUE(client.sendRaw(std::string(http2::kClientPreface) +
                             rawFrame(NGHTTP2_SETTINGS, 0, 0, "") + rawGet(1, "/reset-me") +
                             rawReset(1) + rawGet(3, "/after")));
  ASSERT_TRUE(client.runUntil([&] {
    for (const auto& frame : client.frames())
      if (frame.streamId == 3 && (frame.flags & NGHTTP2_FLAG_END_STREAM)) return true;
    return false;
  })) << client.error();
  EXPECT_EQ(countRequests(upstream, "GET /after "), 1u);
  // Whatever the reset stream's exchange does, it has had the time to do it.
  upstream.waitUntil([](const ScriptedUpstream::Records&) { return false; }, 300ms);
  EXPECT_EQ(countRequests(upstream, "GET /reset-me "), 0u)
      << "the request of a stream reset before it started went upstream";
}

TEST(Http2RequestPathTest, ARapidResetFloodEndsTheConnectionAndSparesTheUpstream) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client client(proxy.port(), raw);
  ASSERT_TRUE(client.ok()) << client.error();

  // 400 streams opened and reset at once: over the codec's burst of 200.
  std::string flood = std::string(http2::kClientPreface) + rawFrame(NGHTTP2_SETTINGS, 0, 0, "");
  for (int32_t stream = 1; stream < 800; stream += 2)
    flood += rawGet(stream, "/flood") + rawReset(stream);
  client.sendRaw(flood);  // the proxy may close before it read it all
  ASSERT_TRUE(client.waitForClose()) << client.error();
  std::optional<uint32_t> goAwayCode;
  for (const auto& frame : client.frames())
    if (auto code = testing::goAwayErrorCode(frame)) goAwayCode = code;
  ASSERT_TRUE(goAwayCode) << "closed without a GOAWAY";
  EXPECT_EQ(*goAwayCode, static_cast<uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));

  Http2Client next(proxy.port());
  const Http2Response response = next.get("/next");
  EXPECT_TRUE(response.complete()) << describe(response, next);
  upstream.waitUntil([](const ScriptedUpstream::Records&) { return false; }, 300ms);
  EXPECT_EQ(countRequests(upstream, "GET /flood "), 0u) << "reset streams reached the upstream";
}

TEST(Http2RequestPathTest, AStreamResetMidBodyLeavesTheConnectionServing) {
  ScriptedUpstream upstream({ConnectionScript().readRequest()}, echoing());
  json config = proxyConfig(upstream.port());
  config["limits"]["maxRetryBufferBytes"] = 1024;  // so the body streams
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id = client.submit(Http2Request()
                                       .withMethod("POST")
                                       .withPath("/upload")
                                       .withHeaders({{"content-length", "100000"}})
                                       .withOpenBody());
  client.sendBody(id, pattern(4096), false);
  ASSERT_TRUE(client.runUntil([&] {
    const auto records = upstream.connections();
    return !records.empty() && records[0].received.size() > 4096;
  })) << "the streamed body did not reach the upstream: "
      << client.error();
  client.resetStream(id);
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
  // An upstream request with half a body cannot be finished: the proxy closes that connection.
  EXPECT_TRUE(upstream.waitForPeerClose(0));

  const Http2Response next = client.get("/next");
  ASSERT_TRUE(next.complete()) << describe(next, client);
  EXPECT_EQ(next.body, "GET /next HTTP/1.1");
  EXPECT_FALSE(client.goAway());
}

TEST(Http2RequestPathTest, AFrameOnTheWrongStreamEndsTheConnectionWithGoAway) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  // The preface, an empty SETTINGS, then DATA on stream 0: a connection error (RFC 9113 6.1).
  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client bad(proxy.port(), raw);
  ASSERT_TRUE(bad.ok()) << bad.error();
  ASSERT_TRUE(bad.sendRaw(std::string(http2::kClientPreface) +
                          rawFrame(NGHTTP2_SETTINGS, 0, 0, "") +
                          rawFrame(NGHTTP2_DATA, 0, 0, "garbage")));
  ASSERT_TRUE(bad.waitForClose()) << "the proxy kept a broken connection: " << bad.error();
  std::optional<uint32_t> goAwayCode;
  for (const auto& frame : bad.frames())
    if (auto code = testing::goAwayErrorCode(frame)) goAwayCode = code;
  ASSERT_TRUE(goAwayCode) << "closed without a GOAWAY";
  EXPECT_EQ(*goAwayCode, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));

  // The proxy goes on serving.
  Http2Client good(proxy.port());
  const Http2Response response = good.get("/fine");
  ASSERT_TRUE(response.complete()) << describe(response, good);
  EXPECT_EQ(response.body, "GET /fine HTTP/1.1");
}

TEST(Http2RequestPathTest, GarbageAfterThePrefaceEndsTheConnection) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));

  Http2ClientOptions raw;
  raw.startSession = false;
  Http2Client bad(proxy.port(), raw);
  ASSERT_TRUE(bad.ok()) << bad.error();
  ASSERT_TRUE(bad.sendRaw(std::string(http2::kClientPreface) +
                          "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n" + std::string(64, '\xff')));
  EXPECT_TRUE(bad.waitForClose()) << "the proxy kept a broken connection: " << bad.error();
  bool goAway = false;
  for (const auto& frame : bad.frames())
    goAway = goAway || frame.type == NGHTTP2_GOAWAY;
  EXPECT_TRUE(goAway) << "closed without a GOAWAY";
  EXPECT_EQ(upstream.connectionCount(), 0u);

  Http2Client good(proxy.port());
  EXPECT_TRUE(good.get("/fine").complete()) << good.error();
}

TEST(Http2RequestPathTest, AnUndecodableHeaderBlockIsACompressionError) {
  ScriptedUpstream upstream({}, echoing());
  StandaloneProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();
  ASSERT_TRUE(client.get("/first").complete()) << client.error();  // stream 1

  // HEADERS on stream 3 whose block indexes past the HPACK tables.
  ASSERT_TRUE(
      client.sendRaw(rawFrame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM,
                              3, "\xff\xff\xff\xff\x0f")));
  ASSERT_TRUE(client.waitForGoAway()) << client.error();
  EXPECT_EQ(client.goAway()->errorCode, static_cast<uint32_t>(NGHTTP2_COMPRESSION_ERROR));
  EXPECT_TRUE(client.waitForClose()) << client.error();
  EXPECT_EQ(upstream.requests().size(), 1u);

  Http2Client next(proxy.port());
  EXPECT_TRUE(next.get("/next").complete()) << next.error();
}

// ---- Idle timeout --------------------------------------------------------------------------

TEST(Http2RequestPathTest, AConnectionIdleForTheIdleTimeoutGetsGoAwayAndIsClosed) {
  ScriptedUpstream upstream({}, echoing());
  json config = proxyConfig(upstream.port());
  config["timeouts"]["idle"] = "300ms";
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.get("/once").complete()) << client.error();

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.waitForGoAway(5s)) << client.error();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_EQ(client.goAway()->errorCode, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_TRUE(client.waitForClose(5s)) << client.error();
}

TEST(Http2RequestPathTest, AStreamWaitingLongerThanTheIdleTimeoutIsNotCut) {
  // The upstream answers after twice the idle timeout: the connection has a stream all along.
  ScriptedUpstream upstream(
      {ConnectionScript().readRequest().pause().write(okResponse("worth the wait"))}, echoing());
  json config = proxyConfig(upstream.port());
  config["timeouts"]["idle"] = "300ms";
  StandaloneProxy proxy(config);
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id = client.submit("GET", "app.test", "/slow");
  ASSERT_TRUE(client.runUntil([&] { return upstream.requests().size() == 1; })) << client.error();
  client.runFor(600ms);
  EXPECT_FALSE(client.goAway()) << "GOAWAY while a stream was open";
  upstream.release();
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
  EXPECT_TRUE(client.response(id).complete()) << describe(client.response(id), client);
  EXPECT_EQ(client.response(id).body, "worth the wait");
}

// ---- Drain -----------------------------------------------------------------------------------

TEST(Http2RequestPathTest, ADrainSendsGoAwayToAnIdleConnectionAndClosesIt) {
  ScriptedUpstream upstream({}, echoing());
  DrainingProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.get("/before").complete()) << client.error();

  const auto start = std::chrono::steady_clock::now();
  proxy.beginDrain();
  ASSERT_TRUE(client.waitForGoAway()) << client.error();
  EXPECT_EQ(client.goAway()->errorCode, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_TRUE(client.waitForClose()) << "the idle connection stayed open: " << client.error();
  // The drain ended with the connection, long before its 20 s deadline.
  EXPECT_TRUE(eventually([&] { return proxy.exited(); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(Http2RequestPathTest, ADrainLetsAnOpenStreamFinish) {
  ScriptedUpstream upstream(
      {ConnectionScript().readRequest().pause().write(okResponse("finished while draining"))},
      echoing());
  DrainingProxy proxy(proxyConfig(upstream.port()));
  Http2Client client(proxy.port());
  ASSERT_TRUE(client.ok()) << client.error();

  const int32_t id = client.submit("GET", "app.test", "/in-flight");
  ASSERT_TRUE(client.runUntil([&] { return upstream.requests().size() == 1; })) << client.error();
  proxy.beginDrain();
  ASSERT_TRUE(client.waitForGoAway()) << client.error();
  EXPECT_EQ(client.goAway()->errorCode, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_FALSE(client.closed(id)) << "the drain cut the open stream";
  EXPECT_FALSE(proxy.exited());

  upstream.release();
  ASSERT_TRUE(client.runUntil([&] { return client.closed(id); })) << client.error();
  const Http2Response& response = client.response(id);
  EXPECT_TRUE(response.complete()) << describe(response, client);
  EXPECT_EQ(response.body, "finished while draining");
  EXPECT_TRUE(client.waitForClose()) << client.error();
  EXPECT_TRUE(eventually([&] { return proxy.exited(); }, 5s));
}

}  // namespace
}  // namespace meshgate::dp
