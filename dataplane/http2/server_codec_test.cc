// ServerCodec against a real nghttp2 client session, the ordinary traffic: request and response
// events, bodies, trailers, flow control and consumed(), backpressure, interim responses, resets,
// and goAway().
#include <gtest/gtest.h>

#include "dataplane/http2/testing/server_codec_harness.h"

namespace meshgate::dp::http2 {
namespace {

TEST_F(ServerCodecTest, GetIsReportedAndALargeResponseArrivesWhole) {
  start();
  const int32_t id = client_->get("/cart?item=42&qty=1", {{"user-agent", "test/1.0"}});
  pump();
  ASSERT_TRUE(events_.streams[id].head);
  const RequestHead& head = *events_.streams[id].head;
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.scheme, "https");
  EXPECT_EQ(head.authority, "shop.example");
  EXPECT_EQ(head.path, "/cart?item=42&qty=1");
  ASSERT_EQ(head.headers.size(), 1u);
  EXPECT_EQ(head.headers[0].name, "user-agent");
  EXPECT_EQ(head.headers[0].value, "test/1.0");
  EXPECT_TRUE(head.endStream);
  EXPECT_FALSE(head.contentLength);
  EXPECT_TRUE(events_.streams[id].ended);
  EXPECT_EQ(codec_->openStreams(), 1u);

  const std::string body = pattern(100 * 1024);
  ASSERT_TRUE(codec_->submitResponse(id, 200, {{"content-type", "text/plain"}}, false));
  codec_->appendBody(id, spanOf(std::string_view(body).substr(0, 30000)), false);
  pump();
  codec_->appendBody(id, spanOf(std::string_view(body).substr(30000, 40000)), false);
  pump();
  codec_->appendBody(id, spanOf(std::string_view(body).substr(70000)), true);
  pump();

  const ClientStream& response = client_->streams[id];
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].name, "content-type");
  EXPECT_EQ(response.headers[0].value, "text/plain");
  EXPECT_EQ(response.body.size(), body.size());
  EXPECT_TRUE(response.body == body);
  EXPECT_EQ(response.closedWith, 0u);
  EXPECT_EQ(events_.streams[id].closedWith, 0u);
  EXPECT_EQ(codec_->openStreams(), 0u);
  EXPECT_TRUE(receiveOk_);
}

TEST_F(ServerCodecTest, AuthorityFallsBackToHostAndContentLengthIsParsed) {
  start();
  const int32_t id = client_->request({{":method", "POST"},
                                       {":scheme", "http"},
                                       {":path", "/upload"},
                                       {"host", "files.example:8080"},
                                       {"content-length", "5"}},
                                      bodyOf("hello"));
  pump();
  ASSERT_TRUE(events_.streams[id].head);
  EXPECT_EQ(events_.streams[id].head->authority, "files.example:8080");
  EXPECT_EQ(events_.streams[id].head->contentLength, 5u);
  EXPECT_FALSE(events_.streams[id].head->endStream);
  EXPECT_EQ(events_.streams[id].body, "hello");
  EXPECT_TRUE(events_.streams[id].ended);
}

TEST_F(ServerCodecTest, ResponseHeadersAreLowercasedAndConnectionFieldsDropped) {
  start();
  const int32_t id = client_->get("/");
  pump();
  ASSERT_TRUE(codec_->submitResponse(id, 204,
                                     {{"X-Request-Id", "abc"},
                                      {"connection", "close"},
                                      {"keep-alive", "timeout=5"},
                                      {"transfer-encoding", "chunked"},
                                      {"upgrade", "h2c"},
                                      {"proxy-connection", "x"},
                                      {":status", "500"},
                                      {"bad", "line\r\nbreak"}},
                                     true));
  pump();
  const ClientStream& response = client_->streams[id];
  EXPECT_EQ(response.status, 204);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].name, "x-request-id");
  EXPECT_EQ(response.headers[0].value, "abc");
  EXPECT_EQ(response.closedWith, 0u);
}

TEST_F(ServerCodecTest, RequestBodyStopsAtTheStreamWindowUntilConsumed) {
  ServerLimits limits;
  limits.initialWindowSize = 100000;
  start(limits);
  const std::string body = pattern(300000, 3);
  const int32_t id = client_->post("/upload", bodyOf(body));
  pump();
  ASSERT_TRUE(events_.streams[id].head);
  EXPECT_EQ(events_.streams[id].body.size(), limits.initialWindowSize);
  pump();  // nothing more moves without consumed()
  EXPECT_EQ(events_.streams[id].body.size(), limits.initialWindowSize);
  EXPECT_FALSE(events_.streams[id].ended);

  size_t consumedSoFar = 0;
  for (int round = 0; round < 100 && !events_.streams[id].ended; ++round) {
    const size_t received = events_.streams[id].body.size();
    codec_->consumed(id, received - consumedSoFar);
    consumedSoFar = received;
    pump();
  }
  EXPECT_TRUE(events_.streams[id].ended);
  EXPECT_TRUE(events_.streams[id].body == body);
  EXPECT_TRUE(receiveOk_);
}

TEST_F(ServerCodecTest, TrailersFollowTheBodyAndCanStandAlone) {
  start();
  const int32_t withBody = client_->get("/grpc.Service/Unary");
  const int32_t trailersOnly = client_->get("/grpc.Service/Fails");
  pump();
  ASSERT_TRUE(codec_->submitResponse(withBody, 200, {{"content-type", "application/grpc"}}, false));
  codec_->appendBody(withBody, spanOf(std::string_view("\0\0\0\0\x05hello", 10)), false);
  codec_->submitTrailers(withBody, {{"grpc-status", "0"}, {"Grpc-Message", "ok"}});
  ASSERT_TRUE(
      codec_->submitResponse(trailersOnly, 200, {{"content-type", "application/grpc"}}, false));
  codec_->submitTrailers(trailersOnly, {{"grpc-status", "5"}});
  pump();

  const ClientStream& first = client_->streams[withBody];
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, std::string("\0\0\0\0\x05hello", 10));
  ASSERT_EQ(first.trailers.size(), 2u);
  EXPECT_EQ(first.trailers[0].name, "grpc-status");
  EXPECT_EQ(first.trailers[0].value, "0");
  EXPECT_EQ(first.trailers[1].name, "grpc-message");
  EXPECT_TRUE(first.trailersEndedStream);
  ASSERT_GE(first.frameTypes.size(), 3u);
  EXPECT_EQ(first.frameTypes.front(), NGHTTP2_HEADERS);
  EXPECT_EQ(first.frameTypes[first.frameTypes.size() - 2], NGHTTP2_DATA);
  EXPECT_EQ(first.frameTypes.back(), NGHTTP2_HEADERS);
  EXPECT_EQ(first.closedWith, 0u);

  const ClientStream& second = client_->streams[trailersOnly];
  EXPECT_EQ(second.status, 200);
  EXPECT_TRUE(second.body.empty());
  ASSERT_EQ(second.trailers.size(), 1u);
  EXPECT_EQ(second.trailers[0].value, "5");
  EXPECT_TRUE(second.trailersEndedStream);
  EXPECT_EQ(second.closedWith, 0u);
  EXPECT_EQ(events_.streams[trailersOnly].closedWith, 0u);
}

TEST_F(ServerCodecTest, RequestTrailersArriveWithTheEnd) {
  start();
  const int32_t id =
      client_->post("/grpc.Service/Upload", bodyOf("payload", true, {{"grpc-timeout", "1S"}}),
                    {{"te", "trailers"}});
  pump();
  ASSERT_TRUE(events_.streams[id].head);
  EXPECT_FALSE(events_.streams[id].head->endStream);
  EXPECT_EQ(events_.streams[id].body, "payload");
  EXPECT_TRUE(events_.streams[id].ended);
  ASSERT_EQ(events_.streams[id].trailers.size(), 1u);
  EXPECT_EQ(events_.streams[id].trailers[0].name, "grpc-timeout");
  EXPECT_EQ(events_.streams[id].trailers[0].value, "1S");
}

TEST_F(ServerCodecTest, ClientResetClosesTheStreamAndReturnsItsWindow) {
  ServerLimits limits;
  limits.initialWindowSize = 128 * 1024;
  limits.connectionWindowSize = 128 * 1024;
  start(limits);
  const int32_t abandoned = client_->post("/upload", bodyOf(pattern(100 * 1024), false));
  pump();
  ASSERT_EQ(events_.streams[abandoned].body.size(), 100u * 1024);
  client_->reset(abandoned, NGHTTP2_CANCEL);
  pump();
  EXPECT_EQ(events_.streams[abandoned].closedWith, uint32_t{NGHTTP2_CANCEL});
  EXPECT_EQ(codec_->openStreams(), 0u);
  EXPECT_FALSE(codec_->submitResponse(abandoned, 200, {}, true));

  // Nothing consumed the abandoned bytes, yet a new stream gets the whole connection window.
  const std::string next = pattern(128 * 1024, 5);
  const int32_t following = client_->post("/upload", bodyOf(next));
  pump();
  EXPECT_EQ(events_.streams[following].body.size(), next.size());
  EXPECT_TRUE(events_.streams[following].ended);
  EXPECT_TRUE(receiveOk_);
}

TEST_F(ServerCodecTest, PaddingGoesBackToTheWindow) {
  ServerLimits limits;
  limits.initialWindowSize = 128 * 1024;
  limits.connectionWindowSize = 128 * 1024;
  start(limits);
  events_.consumeAtOnce = true;
  // 1024 frames of 100 bytes, each padded by 255 more: twice the window in padding alone, so
  // padding that never went back would stall the stream.
  client_->padding = 255;
  client_->dataFrameBytes = 100;
  const std::string body = pattern(100 * 1024);
  const int32_t padded = client_->post("/upload", bodyOf(body));
  pump();
  EXPECT_GT(client_->bytesSent, body.size() + 2 * limits.connectionWindowSize);
  EXPECT_EQ(events_.streams[padded].body.size(), body.size());
  EXPECT_TRUE(events_.streams[padded].ended);
  // Never more credit than the window the server advertised.
  EXPECT_LE(nghttp2_session_get_remote_window_size(client_->session()), 128 * 1024);
  EXPECT_TRUE(receiveOk_);
}

TEST_F(ServerCodecTest, InputSplitAtEveryByteIsParsed) {
  start();
  const int32_t id = client_->post("/split", bodyOf(pattern(5000)), {{"x-split", "yes"}});
  const std::string bytes = client_->takeOutput();
  for (const char& byte : bytes)
    ASSERT_TRUE(codec_->receive({&byte, 1}));
  ASSERT_TRUE(events_.streams[id].head);
  EXPECT_EQ(events_.streams[id].head->path, "/split");
  EXPECT_EQ(events_.streams[id].body, pattern(5000));
  EXPECT_TRUE(events_.streams[id].ended);

  // A SETTINGS flood whose frame header arrives in pieces is still stopped.
  std::string entries;
  for (int i = 0; i < 40; ++i)
    entries += std::string("\x00\x03\x00\x00\x00\x64", 6);
  const std::string flood = frameBytes(kSettings, 0, 0, entries);
  bool accepted = true;
  for (size_t i = 0; i < flood.size() && accepted; ++i)
    accepted = codec_->receive({flood.data() + i, 1});
  EXPECT_FALSE(accepted);
  EXPECT_NE(codec_->error().find("SETTINGS"), std::string_view::npos) << codec_->error();
}

TEST_F(ServerCodecTest, BackpressureReportsWritableBelowTheLowWaterMark) {
  start();
  const int32_t id = client_->get("/download");
  pump();
  ASSERT_TRUE(codec_->submitResponse(id, 200, {}, false));
  const std::string body = pattern(1024 * 1024, 11);
  codec_->appendBody(id, spanOf(body), false);
  EXPECT_EQ(codec_->queuedBody(id), body.size());

  // One write: the client's initial 64 KiB windows let little out.
  client_->feed(drainServer());
  const size_t afterFirstWrite = codec_->queuedBody(id);
  EXPECT_LT(afterFirstWrite, body.size());
  EXPECT_GT(afterFirstWrite, ServerCodec::kHighWaterBytes);
  EXPECT_EQ(events_.streams[id].writableCalls, 0);

  pump();  // the client's WINDOW_UPDATEs let the rest through
  EXPECT_EQ(codec_->queuedBody(id), 0u);
  EXPECT_EQ(events_.streams[id].writableCalls, 1);
  EXPECT_LT(events_.streams[id].queuedWhenWritable, ServerCodec::kLowWaterBytes);
  EXPECT_EQ(client_->streams[id].body.size(), body.size());
  EXPECT_FALSE(client_->streams[id].closedWith);

  codec_->appendBody(id, {}, true);
  pump();
  EXPECT_EQ(client_->streams[id].closedWith, 0u);
  EXPECT_TRUE(client_->streams[id].body == body);
}

TEST_F(ServerCodecTest, GoAwayLetsInFlightStreamsFinish) {
  start();
  const int32_t id = client_->get("/slow");
  pump();
  ASSERT_TRUE(events_.streams[id].head);
  codec_->goAway();
  pump();
  ASSERT_EQ(client_->goAways.size(), 1u);
  EXPECT_EQ(client_->goAways[0].errorCode, uint32_t{NGHTTP2_NO_ERROR});
  EXPECT_EQ(client_->goAways[0].lastStreamId, id);
  EXPECT_TRUE(codec_->wantsRead());

  ASSERT_TRUE(codec_->submitResponse(id, 200, {}, false));
  codec_->appendBody(id, spanOf("done"), true);
  pump();
  EXPECT_EQ(client_->streams[id].body, "done");
  EXPECT_EQ(client_->streams[id].closedWith, 0u);
  EXPECT_FALSE(codec_->wantsRead());
  EXPECT_FALSE(codec_->wantsWrite());
  EXPECT_TRUE(codec_->error().empty());
}

TEST_F(ServerCodecTest, SubmitResponseOnAnUnknownStreamFails) {
  start();
  EXPECT_FALSE(codec_->submitResponse(1, 200, {}, true));
  EXPECT_FALSE(codec_->submitResponse(7, 200, {}, false));
  codec_->appendBody(7, spanOf("x"), true);  // ignored
  EXPECT_EQ(codec_->queuedBody(7), 0u);
  const int32_t id = client_->get("/");
  pump();
  EXPECT_FALSE(codec_->submitResponse(id, 42, {}, true));
  ASSERT_TRUE(codec_->submitResponse(id, 200, {}, true));
  EXPECT_FALSE(codec_->submitResponse(id, 200, {}, true));  // only once
}

TEST_F(ServerCodecTest, RespondingFromInsideOnRequestHeadWorks) {
  start();
  events_.whenHead = [&](int32_t stream) {
    ASSERT_TRUE(codec_->submitResponse(stream, 200, {{"x-inline", "1"}}, false));
    codec_->appendBody(stream, spanOf("inline"), true);
  };
  const int32_t id = client_->get("/inline");
  pump();
  EXPECT_EQ(client_->streams[id].status, 200);
  EXPECT_EQ(client_->streams[id].body, "inline");
  EXPECT_EQ(events_.streams[id].closedWith, 0u);
}

TEST_F(ServerCodecTest, InformationalResponseThenFinal) {
  start();
  const int32_t id = client_->get("/hints");
  pump();
  ASSERT_TRUE(codec_->submitResponse(id, 103, {{"link", "</app.css>; rel=preload"}}, false));
  ASSERT_TRUE(codec_->submitResponse(id, 200, {}, true));
  pump();
  EXPECT_EQ(client_->streams[id].status, 200);
  EXPECT_EQ(client_->streams[id].closedWith, 0u);
}

TEST_F(ServerCodecTest, ServerResetEndsTheStreamForBothSides) {
  start();
  const int32_t id = client_->post("/upload", bodyOf("partial", false));
  pump();
  ASSERT_TRUE(events_.streams[id].head);
  codec_->resetStream(id, NGHTTP2_INTERNAL_ERROR);
  EXPECT_FALSE(codec_->submitResponse(id, 200, {}, true));
  pump();
  EXPECT_EQ(client_->streams[id].resetWith, uint32_t{NGHTTP2_INTERNAL_ERROR});
  EXPECT_EQ(events_.streams[id].closedWith, uint32_t{NGHTTP2_INTERNAL_ERROR});
  EXPECT_EQ(codec_->openStreams(), 0u);
}

}  // namespace
}  // namespace meshgate::dp::http2
