// ServerCodec's defences, mostly with hand-made frames a well-behaved client cannot send: rapid
// reset, CONTINUATION floods, oversized header lists and HPACK bombs, PING and SETTINGS floods,
// stream limits, invalid messages and a bad preface.
#include <gtest/gtest.h>

#include "dataplane/http2/testing/server_codec_harness.h"

namespace meshgate::dp::http2 {
namespace {

TEST_F(ServerCodecTest, RapidResetEndsTheConnectionWithEnhanceYourCalm) {
  ServerLimits limits;
  limits.resetBurst = 200;
  limits.resetsPerSecond = 33;
  start(limits);
  pump();
  std::string attack;
  for (int i = 0; i < 300; ++i) {
    const int32_t id = client_->get("/");
    attack += client_->takeOutput();
    client_->reset(id, NGHTTP2_CANCEL);
    attack += client_->takeOutput();
  }
  EXPECT_FALSE(codec_->receive(spanOf(attack)));
  EXPECT_GT(codec_->resetsReceived(), 200u);
  EXPECT_LT(codec_->resetsReceived(), 300u);
  EXPECT_NE(codec_->error().find("rapid reset"), std::string_view::npos) << codec_->error();
  EXPECT_NE(codec_->error().find("201"), std::string_view::npos) << codec_->error();
  EXPECT_FALSE(codec_->wantsRead());

  client_->feed(drainServer());
  ASSERT_EQ(client_->goAways.size(), 1u);  // ours, not nghttp2's own limiter's INTERNAL_ERROR
  EXPECT_EQ(client_->goAways[0].errorCode, uint32_t{NGHTTP2_ENHANCE_YOUR_CALM});
  EXPECT_FALSE(codec_->wantsWrite());
  EXPECT_FALSE(codec_->receive(spanOf(client_->takeOutput())));
}

TEST_F(ServerCodecTest, ResetsWithinTheBurstAreServed) {
  start();
  pump();
  for (int i = 0; i < 150; ++i) {
    const int32_t id = client_->get("/");
    pump();
    client_->reset(id, NGHTTP2_CANCEL);
    pump();
  }
  EXPECT_TRUE(receiveOk_);
  EXPECT_EQ(codec_->resetsReceived(), 150u);
  EXPECT_TRUE(client_->goAways.empty());
  const int32_t id = client_->get("/after");
  pump();
  ASSERT_TRUE(codec_->submitResponse(id, 200, {}, true));
  pump();
  EXPECT_EQ(client_->streams[id].status, 200);
}

TEST_F(ServerCodecTest, ContinuationFloodEndsTheConnection) {
  ServerLimits limits;
  limits.maxContinuationFrames = 16;
  start(limits);
  std::string attack = rawPreface();
  attack += frameBytes(kHeaders, 0, 1, getRequestBlock());
  for (int i = 0; i < 40; ++i)
    attack += frameBytes(kContinuation, 0, 1, literalField("x-a", "b"));
  EXPECT_FALSE(sendRaw(attack));
  EXPECT_NE(codec_->error().find("CONTINUATION"), std::string_view::npos) << codec_->error();
  EXPECT_EQ(events_.headsSeen(), 0u);
  EXPECT_EQ(goAwayCode(parseFrames(drainServer())), uint32_t{NGHTTP2_ENHANCE_YOUR_CALM});
  EXPECT_FALSE(codec_->wantsRead());
  EXPECT_FALSE(codec_->wantsWrite());
}

TEST_F(ServerCodecTest, HeaderBlockWithinTheContinuationLimitIsServed) {
  start();
  std::string request = rawPreface();
  request += frameBytes(kHeaders, kEndStream, 1, getRequestBlock());
  for (int i = 0; i < 15; ++i)
    request += frameBytes(kContinuation, 0, 1, literalField("x-a", "b"));
  request += frameBytes(kContinuation, kEndHeaders, 1, literalField("x-b", "c"));
  EXPECT_TRUE(sendRaw(request));
  ASSERT_TRUE(events_.streams[1].head);
  EXPECT_EQ(events_.streams[1].head->headers.size(), 16u);
  EXPECT_EQ(events_.streams[1].head->authority, "host");
}

TEST_F(ServerCodecTest, OversizedHeaderListResetsOnlyItsStream) {
  client_ = std::make_unique<TestClient>(1024 * 1024);
  start();  // maxHeaderListBytes 64 KiB
  std::vector<Field> large;
  for (int i = 0; i < 100; ++i)
    large.push_back({"x-filler-" + std::to_string(i), pattern(1000, static_cast<size_t>(i))});
  const int32_t bomb = client_->get("/", large);
  pump();
  EXPECT_FALSE(events_.streams.contains(bomb));
  EXPECT_TRUE(client_->streams[bomb].resetWith);
  EXPECT_EQ(client_->streams[bomb].status, 0);
  EXPECT_EQ(codec_->openStreams(), 0u);

  const int32_t normal = client_->get("/next", {{"x-small", "1"}});
  pump();
  ASSERT_TRUE(events_.streams[normal].head);
  EXPECT_EQ(events_.streams[normal].head->headers.size(), 1u);
  ASSERT_TRUE(codec_->submitResponse(normal, 200, {}, true));
  pump();
  EXPECT_EQ(client_->streams[normal].status, 200);
  EXPECT_TRUE(receiveOk_);
  EXPECT_TRUE(client_->goAways.empty());
}

TEST_F(ServerCodecTest, HpackBombIsMeasuredDecoded) {
  start();  // maxHeaderListBytes 64 KiB
  // One 4000-byte value enters the dynamic table (index 62); 20 one-byte references to it decode
  // to about 80 KB.
  const std::string bigValue = pattern(4000);
  std::string block = getRequestBlock();
  block += '\x40';  // literal with incremental indexing, new name
  block += '\x06';
  block += "x-bomb";
  block += "\x7f\xa1\x1e";  // 4000 as an HPACK integer with a 7-bit prefix
  block += bigValue;
  block += std::string(20, '\xbe');
  std::string bytes = rawPreface();
  bytes += frameBytes(kHeaders, kEndStream | kEndHeaders, 1, block);
  EXPECT_LT(bytes.size(), 4200u);
  // The next request uses the same table entry once: the decoder kept its state.
  bytes += frameBytes(kHeaders, kEndStream | kEndHeaders, 3, getRequestBlock() + "\xbe");
  EXPECT_TRUE(sendRaw(bytes));
  EXPECT_FALSE(events_.streams.contains(1));
  ASSERT_TRUE(events_.streams[3].head);
  ASSERT_EQ(events_.streams[3].head->headers.size(), 1u);
  EXPECT_EQ(events_.streams[3].head->headers[0].name, "x-bomb");
  EXPECT_TRUE(events_.streams[3].head->headers[0].value == bigValue);
  bool streamOneReset = false;
  for (const RawFrame& frame : parseFrames(drainServer()))
    streamOneReset = streamOneReset || (frame.type == kRstStream && frame.streamId == 1);
  EXPECT_TRUE(streamOneReset);
}

TEST_F(ServerCodecTest, PingFloodWithoutReadingEndsTheConnection) {
  ServerLimits limits;
  limits.maxQueuedAcks = 1000;
  start(limits);
  std::string attack = rawPreface();
  for (int i = 0; i < 1200; ++i)
    attack += frameBytes(kPing, 0, 0, "12345678");
  EXPECT_FALSE(sendRaw(attack));
  EXPECT_NE(codec_->error().find("flood"), std::string_view::npos) << codec_->error();
  const std::vector<RawFrame> frames = parseFrames(drainServer());
  EXPECT_EQ(goAwayCode(frames), uint32_t{NGHTTP2_ENHANCE_YOUR_CALM});
  const auto pingAcks = std::count_if(frames.begin(), frames.end(), [](const RawFrame& frame) {
    return frame.type == kPing && (frame.flags & kAck);
  });
  EXPECT_LE(pingAcks, 1000);
}

TEST_F(ServerCodecTest, PingsThatAreAnsweredAsTheyComeAreFine) {
  start();
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(nghttp2_submit_ping(client_->session(), NGHTTP2_FLAG_NONE, nullptr) == 0);
    if (i % 100 == 99) pump();
  }
  pump();
  EXPECT_TRUE(receiveOk_);
  EXPECT_TRUE(client_->goAways.empty());
}

TEST_F(ServerCodecTest, SettingsWithTooManyEntriesEndTheConnection) {
  ServerLimits limits;
  limits.maxSettingsEntries = 32;
  start(limits);
  std::string entries;
  for (int i = 0; i < 40; ++i)
    entries += std::string("\x00\x03\x00\x00\x00\x64", 6);
  const std::string attack = std::string(kClientPreface) + frameBytes(kSettings, 0, 0, entries);
  EXPECT_FALSE(sendRaw(attack));
  EXPECT_NE(codec_->error().find("SETTINGS"), std::string_view::npos) << codec_->error();
  const std::vector<RawFrame> frames = parseFrames(drainServer());
  EXPECT_EQ(goAwayCode(frames), uint32_t{NGHTTP2_ENHANCE_YOUR_CALM});
  EXPECT_FALSE(std::any_of(frames.begin(), frames.end(), [](const RawFrame& frame) {
    return frame.type == kSettings && (frame.flags & kAck);
  }));
}

TEST_F(ServerCodecTest, StreamsBeyondTheLimitAreRefused) {
  ServerLimits limits;
  limits.maxConcurrentStreams = 4;
  start(limits);
  // All six go out before the client has the server's SETTINGS.
  std::vector<int32_t> ids;
  for (int i = 0; i < 6; ++i)
    ids.push_back(client_->get("/item/" + std::to_string(i)));
  pump();
  EXPECT_EQ(events_.headsSeen(), 4u);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(events_.streams[ids[i]].head) << i;
    ASSERT_TRUE(codec_->submitResponse(ids[i], 200, {}, false));
    codec_->appendBody(ids[i], spanOf("ok"), true);
  }
  for (int i = 4; i < 6; ++i) {
    EXPECT_EQ(client_->streams[ids[i]].resetWith, uint32_t{NGHTTP2_REFUSED_STREAM}) << i;
    EXPECT_FALSE(events_.streams.contains(ids[i])) << i;
  }
  pump();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(client_->streams[ids[i]].status, 200);
    EXPECT_EQ(client_->streams[ids[i]].body, "ok");
  }
  EXPECT_TRUE(receiveOk_);
}

TEST_F(ServerCodecTest, ExceedingAnAcknowledgedStreamLimitIsAConnectionError) {
  ServerLimits limits;
  limits.maxConcurrentStreams = 2;
  start(limits);
  std::string bytes = rawPreface() + frameBytes(kSettings, kAck, 0, "");
  ASSERT_TRUE(sendRaw(bytes));
  drainServer();
  std::string three;
  for (int32_t id = 1; id <= 5; id += 2)
    three += frameBytes(kHeaders, kEndStream | kEndHeaders, id, getRequestBlock());
  codec_->receive(
      spanOf(three));  // nghttp2 answers by itself: the failure shows once GOAWAY is out
  EXPECT_EQ(goAwayCode(parseFrames(drainServer())), uint32_t{NGHTTP2_PROTOCOL_ERROR});
  EXPECT_NE(codec_->error().find("PROTOCOL_ERROR"), std::string_view::npos) << codec_->error();
  EXPECT_FALSE(codec_->wantsRead());
  EXPECT_FALSE(codec_->receive(spanOf(frameBytes(kPing, 0, 0, "12345678"))));
}

TEST_F(ServerCodecTest, InvalidRequestsAreResetWithoutAHead) {
  start();
  const int32_t noPath =
      client_->request({{":method", "GET"}, {":scheme", "https"}, {":authority", "shop.example"}});
  const int32_t connectionHeader = client_->get("/", {{"connection", "keep-alive"}});
  pump();
  for (const int32_t id : {noPath, connectionHeader}) {
    EXPECT_FALSE(events_.streams.contains(id)) << id;
    EXPECT_EQ(client_->streams[id].resetWith, uint32_t{NGHTTP2_PROTOCOL_ERROR}) << id;
  }
  EXPECT_TRUE(receiveOk_);
  const int32_t valid = client_->get("/ok");
  pump();
  EXPECT_TRUE(events_.streams[valid].head);
}

TEST_F(ServerCodecTest, UppercaseFieldNamesAreResetWithoutAHead) {
  start();
  // nghttp2's client lowercases names itself: this one is hand-encoded.
  std::string bytes = rawPreface();
  bytes += frameBytes(kHeaders, kEndStream | kEndHeaders, 1,
                      getRequestBlock() + literalField("X-Upper", "1"));
  bytes += frameBytes(kHeaders, kEndStream | kEndHeaders, 3, getRequestBlock());
  EXPECT_TRUE(sendRaw(bytes));
  EXPECT_FALSE(events_.streams.contains(1));
  EXPECT_TRUE(events_.streams[3].head);
  bool resetWithProtocolError = false;
  for (const RawFrame& frame : parseFrames(drainServer())) {
    if (frame.type == kRstStream && frame.streamId == 1)
      resetWithProtocolError = bigEndian32(frame.payload) == NGHTTP2_PROTOCOL_ERROR;
  }
  EXPECT_TRUE(resetWithProtocolError);
}

TEST_F(ServerCodecTest, BadPrefaceFails) {
  start();
  EXPECT_FALSE(sendRaw("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_NE(codec_->error().find("preface"), std::string_view::npos) << codec_->error();
}

}  // namespace
}  // namespace meshgate::dp::http2
