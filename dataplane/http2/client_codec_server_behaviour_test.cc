// ClientCodec against what a server may do: interim heads, stream resets, GOAWAY, a concurrency
// limit, oversized response heads, malformed bytes, no SETTINGS first, and SETTINGS floods.
#include <gtest/gtest.h>

#include "dataplane/http2/testing/client_codec_harness.h"

namespace meshgate::dp::http2 {
namespace {

TEST_F(ClientCodecTest, InterimHeadsAreSkipped) {
  start();
  const int32_t id =
      client->submitRequest(request("POST", "/form", {{"expect", "100-continue"}}), false);
  pump();
  server->informational(id, 100, {});
  server->informational(id, 103, {{"link", "</style.css>; rel=preload"}});
  pump();
  EXPECT_EQ(events.responses[id].heads, 0);
  client->appendBody(id, std::string_view("a=1"), true);
  pump();
  EXPECT_EQ(server->requests[id].body, "a=1");
  server->respond(id, 200, {{"x-final", "yes"}}, "done");
  pump();
  const Recorder::Response& response = events.responses[id];
  EXPECT_EQ(response.heads, 1);
  ASSERT_TRUE(response.head.has_value());
  EXPECT_EQ(response.head->status, 200u);
  EXPECT_EQ(valueOf(response.head->headers, "x-final"), "yes");
  EXPECT_FALSE(hasField(response.head->headers, "link"));
  EXPECT_EQ(response.body, "done");
  EXPECT_TRUE(response.trailers.empty());
  EXPECT_EQ(response.ends, 1);
  EXPECT_EQ(response.closeCode, 0u);
}

TEST_F(ClientCodecTest, ServerResetClosesTheStreamWithItsCode) {
  start();
  const int32_t id = client->submitRequest(request("GET", "/busy"), true);
  pump();
  server->reset(id, NGHTTP2_REFUSED_STREAM);
  pump();
  const Recorder::Response& response = events.responses[id];
  EXPECT_EQ(response.heads, 0);
  EXPECT_EQ(response.ends, 0);
  EXPECT_EQ(response.closes, 1);
  EXPECT_EQ(response.closeCode, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  EXPECT_EQ(client->openStreams(), 0u);
  EXPECT_TRUE(client->canOpenStream());
}

TEST_F(ClientCodecTest, GoAwayRefusesLaterStreamsAndLetsEarlierOnesFinish) {
  start();
  const int32_t first = client->submitRequest(request("GET", "/1"), true);
  const int32_t second = client->submitRequest(request("GET", "/2"), true);
  const int32_t third = client->submitRequest(request("GET", "/3"), true);
  pump();
  ASSERT_EQ(third, 5);
  // Submitted but not written yet when the GOAWAY arrives: it never leaves.
  const int32_t unsent = client->submitRequest(request("GET", "/4"), true);
  ASSERT_EQ(unsent, 7);
  server->goAway(second, NGHTTP2_NO_ERROR);
  ASSERT_TRUE(client->receive(server->output()));
  EXPECT_TRUE(client->goAwayReceived());
  EXPECT_EQ(events.goAways, 1);
  EXPECT_EQ(events.goAwayLastStream, second);
  EXPECT_EQ(events.goAwayCode, 0u);
  EXPECT_FALSE(client->canOpenStream());
  EXPECT_EQ(client->submitRequest(request("GET", "/late"), true), -1);
  EXPECT_EQ(events.responses[third].closes, 1);
  EXPECT_EQ(events.responses[third].closeCode, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  pump();
  EXPECT_EQ(events.responses[unsent].closes, 1);
  EXPECT_EQ(events.responses[unsent].closeCode, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  EXPECT_FALSE(server->requests.count(unsent));

  server->respond(first, 200, {}, "one");
  server->respond(second, 200, {}, "two");
  pump();
  EXPECT_FALSE(clientFailed);
  EXPECT_EQ(events.responses[first].body, "one");
  EXPECT_EQ(events.responses[second].body, "two");
  EXPECT_EQ(events.responses[first].closeCode, 0u);
  EXPECT_EQ(events.responses[second].closeCode, 0u);
  EXPECT_EQ(events.responses[third].heads, 0);
  for (const int32_t id : {first, second, third, unsent})
    EXPECT_EQ(events.responses[id].closes, 1) << "stream " << id;
  EXPECT_EQ(client->openStreams(), 0u);
  EXPECT_EQ(events.log[0], "goaway 3 0");
  EXPECT_EQ(events.log[1], "closed 5 7");
}

TEST_F(ClientCodecTest, ServerConcurrencyLimitBoundsOpenStreams) {
  start({}, {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 2}});
  EXPECT_TRUE(client->canOpenStream());  // 100 until the server's SETTINGS arrive
  pump();
  const int32_t first = client->submitRequest(request("GET", "/1"), true);
  EXPECT_TRUE(client->canOpenStream());
  const int32_t second = client->submitRequest(request("GET", "/2"), true);
  EXPECT_FALSE(client->canOpenStream());
  EXPECT_EQ(client->submitRequest(request("GET", "/3"), true), -1);
  EXPECT_EQ(client->openStreams(), 2u);
  pump();
  server->respond(first, 200, {}, "");
  pump();
  EXPECT_EQ(events.responses[first].closes, 1);
  EXPECT_EQ(client->openStreams(), 1u);
  EXPECT_TRUE(client->canOpenStream());
  const int32_t third = client->submitRequest(request("GET", "/3"), true);
  EXPECT_GT(third, second);
  pump();
  EXPECT_TRUE(server->requests[third].headComplete);
}

TEST_F(ClientCodecTest, OversizedResponseHeadResetsOnlyThatStream) {
  ClientLimits limits;
  limits.maxHeaderListBytes = 4096;
  start(limits);
  const int32_t id = client->submitRequest(request("GET", "/huge-head"), true);
  pump();
  server->respond(id, 200, {{"x-big", std::string(5000, 'v')}}, "body");
  pump();
  EXPECT_FALSE(clientFailed);
  const Recorder::Response& response = events.responses[id];
  EXPECT_EQ(response.heads, 0);
  EXPECT_EQ(response.ends, 0);
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(response.closes, 1);
  EXPECT_EQ(response.closeCode, static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
  EXPECT_EQ(server->requests[id].resetReceived, std::optional<uint32_t>(NGHTTP2_INTERNAL_ERROR));

  // Just under the limit: 32 + 6 + 4000 for the field, plus :status.
  const int32_t next = client->submitRequest(request("GET", "/ok"), true);
  pump();
  server->respond(next, 200, {{"x-fits", std::string(4000, 'v')}}, "fine");
  pump();
  EXPECT_EQ(events.responses[next].heads, 1);
  EXPECT_EQ(events.responses[next].body, "fine");
  EXPECT_EQ(events.responses[next].closeCode, 0u);
}

TEST_F(ClientCodecTest, MalformedServerBytesFailTheConnection) {
  const std::vector<std::string> garbage = {
      std::string("this is not an HTTP/2 frame"),
      // DATA on stream 0.
      std::string("\x00\x00\x01\x00\x00\x00\x00\x00\x00x", 10),
  };
  for (const std::string& bytes : garbage) {
    SCOPED_TRACE(bytes);
    Recorder recorder;
    TestServer peer;
    ClientCodec codec(recorder, {});
    std::string toServer;
    for (auto out = codec.nextOutput(); !out.empty(); out = codec.nextOutput())
      toServer.append(out.data(), out.size());
    ASSERT_TRUE(peer.receive(toServer));
    const std::string serverPreface = peer.output();
    ASSERT_FALSE(serverPreface.empty());
    EXPECT_FALSE(codec.receive(serverPreface + bytes));
    EXPECT_FALSE(codec.error().empty());
    EXPECT_FALSE(codec.canOpenStream());
    EXPECT_FALSE(codec.wantsRead());
    EXPECT_FALSE(codec.receive(serverPreface));  // stays failed
    toServer.clear();
    for (auto out = codec.nextOutput(); !out.empty(); out = codec.nextOutput())
      toServer.append(out.data(), out.size());
    ASSERT_TRUE(peer.receive(toServer));
    ASSERT_TRUE(peer.goAwayReceived.has_value());
    EXPECT_NE(*peer.goAwayReceived, 0u);
    // Once written, the GOAWAY's code and reason make the error precise.
    EXPECT_NE(codec.error().find("GOAWAY"), std::string_view::npos) << codec.error();
  }
}

TEST_F(ClientCodecTest, ServerThatDoesNotStartWithSettingsFails) {
  start();
  ASSERT_TRUE(server->receive(drainClient()));
  const std::string ping(
      "\x00\x00\x08\x06\x00\x00\x00\x00\x00"
      "12345678",
      17);
  EXPECT_FALSE(client->receive(ping));
  EXPECT_FALSE(client->error().empty());
}

TEST_F(ClientCodecTest, SettingsFloodFailsTheConnection) {
  ClientLimits limits;
  limits.maxSettingsEntries = 8;
  const std::vector<nghttp2_settings_entry> many(9, {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 4096});
  start(limits, many);
  ASSERT_TRUE(server->receive(drainClient()));
  EXPECT_FALSE(client->receive(server->output()));
  EXPECT_FALSE(client->error().empty());
  drainClient();
  EXPECT_NE(client->error().find("ENHANCE_YOUR_CALM"), std::string_view::npos) << client->error();
}

}  // namespace
}  // namespace meshgate::dp::http2
