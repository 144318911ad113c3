// ClientCodec against a real nghttp2 server session, the ordinary exchange: the preface, request
// heads as the server sees them, responses, bodies, trailers, flow control and consumed(), and
// requests submitted from callbacks.
#include <gtest/gtest.h>

#include "dataplane/http2/testing/client_codec_harness.h"

namespace meshgate::dp::http2 {
namespace {

TEST_F(ClientCodecTest, PrefaceCarriesTheClientSettings) {
  ClientLimits limits;
  limits.initialWindowSize = 100000;
  limits.maxHeaderListBytes = 12345;
  start(limits);
  const std::string first = drainClient();
  ASSERT_GE(first.size(), kClientPreface.size());
  EXPECT_EQ(std::string_view(first).substr(0, kClientPreface.size()), kClientPreface);
  ASSERT_TRUE(server->receive(first));
  EXPECT_EQ(server->clientSetting(NGHTTP2_SETTINGS_ENABLE_PUSH), 0u);
  EXPECT_EQ(server->clientSetting(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE), 100000u);
  EXPECT_EQ(server->clientSetting(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE), 12345u);
  pump();
  EXPECT_FALSE(clientFailed);
  EXPECT_TRUE(client->canOpenStream());
  EXPECT_EQ(client->openStreams(), 0u);
}

TEST_F(ClientCodecTest, GetSendsPseudoHeadersAndReceivesTheResponse) {
  start();
  const int32_t id = client->submitRequest(request("GET", "/v1/items?page=2",
                                                   {{"Accept", "application/json"},
                                                    {"connection", "keep-alive"},
                                                    {"host", "api.example.test"},
                                                    {"transfer-encoding", "chunked"}}),
                                           true);
  ASSERT_EQ(id, 1);
  EXPECT_EQ(client->openStreams(), 1u);
  pump();
  const TestServer::Request& seen = server->requests[id];
  ASSERT_TRUE(seen.headComplete);
  EXPECT_TRUE(seen.ended);
  EXPECT_EQ(valueOf(seen.pseudoHeaders, ":method"), "GET");
  EXPECT_EQ(valueOf(seen.pseudoHeaders, ":scheme"), "https");
  EXPECT_EQ(valueOf(seen.pseudoHeaders, ":authority"), "api.example.test");
  EXPECT_EQ(valueOf(seen.pseudoHeaders, ":path"), "/v1/items?page=2");
  EXPECT_EQ(seen.pseudoHeaders.front().name, ":method");
  EXPECT_EQ(valueOf(seen.headers, "accept"), "application/json");
  EXPECT_FALSE(hasField(seen.headers, "connection"));
  EXPECT_FALSE(hasField(seen.headers, "host"));
  EXPECT_FALSE(hasField(seen.headers, "transfer-encoding"));

  const std::string body = patterned(100 * 1024);
  server->respond(id, 200, {{"content-type", "text/plain"}, {"content-length", "102400"}}, body);
  pump();
  EXPECT_FALSE(clientFailed);
  const Recorder::Response& response = events.responses[id];
  ASSERT_TRUE(response.head.has_value());
  EXPECT_EQ(response.heads, 1);
  EXPECT_EQ(response.head->status, 200u);
  EXPECT_EQ(valueOf(response.head->headers, "content-type"), "text/plain");
  EXPECT_EQ(response.head->contentLength, std::optional<uint64_t>(102400));
  EXPECT_FALSE(response.head->endStream);
  EXPECT_EQ(response.body, body);
  EXPECT_EQ(response.ends, 1);
  EXPECT_TRUE(response.trailers.empty());
  EXPECT_EQ(response.closes, 1);
  EXPECT_EQ(response.closeCode, 0u);
  EXPECT_EQ(events.log, (std::vector<std::string>{"head 1", "data 1", "end 1", "closed 1 0"}));
  EXPECT_EQ(client->openStreams(), 0u);
}

TEST_F(ClientCodecTest, AuthorityFallsBackToTheHostField) {
  start();
  RequestHead head = request("GET", "/", {{"Host", "from-host.test"}});
  head.authority.clear();
  const int32_t id = client->submitRequest(head, true);
  pump();
  EXPECT_EQ(valueOf(server->requests[id].pseudoHeaders, ":authority"), "from-host.test");
  EXPECT_FALSE(hasField(server->requests[id].headers, "host"));
}

TEST_F(ClientCodecTest, ResponseWithoutBodyEndsAtItsHead) {
  start();
  const int32_t id = client->submitRequest(request("DELETE", "/item/7"), true);
  pump();
  server->respond(id, 204, {{"x-deleted", "7"}}, "");
  pump();
  const Recorder::Response& response = events.responses[id];
  ASSERT_TRUE(response.head.has_value());
  EXPECT_EQ(response.head->status, 204u);
  EXPECT_TRUE(response.head->endStream);
  EXPECT_EQ(response.ends, 1);
  EXPECT_EQ(events.log, (std::vector<std::string>{"head 1", "end 1", "closed 1 0"}));
}

TEST_F(ClientCodecTest, LargePostBodyArrivesExactlyAndSignalsWritable) {
  start();
  RequestHead head = request("POST", "/upload", {{"content-type", "application/octet-stream"}});
  const int32_t id = client->submitRequest(head, false);
  ASSERT_GT(id, 0);
  const std::string body = patterned(1024 * 1024);
  const size_t chunk = 128 * 1024;
  for (size_t offset = 0; offset < body.size(); offset += chunk) {
    const bool last = offset + chunk >= body.size();
    client->appendBody(id, std::span<const char>(body.data() + offset, chunk), last);
  }
  EXPECT_EQ(client->queuedBody(id), body.size());
  // One round: the server's initial window (65535) lets only part of the body out.
  const std::string firstFlight = drainClient();
  ASSERT_TRUE(server->receive(firstFlight));
  EXPECT_LT(client->queuedBody(id), body.size());
  EXPECT_GT(client->queuedBody(id), ServerCodec::kLowWaterBytes);
  EXPECT_EQ(events.responses[id].writableEvents, 0);
  pump();
  EXPECT_FALSE(clientFailed);
  EXPECT_EQ(client->queuedBody(id), 0u);
  EXPECT_EQ(events.responses[id].writableEvents, 1);
  const TestServer::Request& seen = server->requests[id];
  EXPECT_TRUE(seen.ended);
  EXPECT_EQ(seen.body.size(), body.size());
  EXPECT_TRUE(seen.body == body);

  server->respond(id, 201, {}, "");
  pump();
  EXPECT_EQ(events.responses[id].closes, 1);
  EXPECT_EQ(events.responses[id].closeCode, 0u);
}

TEST_F(ClientCodecTest, TrailersTravelBothWays) {
  start();
  const int32_t id =
      client->submitRequest(request("POST", "/pkg.Service/Call", {{"te", "trailers"}}), false);
  const std::string message = "ping";
  client->appendBody(id, message, false);
  client->submitTrailers(id, {{"X-Checksum", "abc"}});
  pump();
  const TestServer::Request& seen = server->requests[id];
  EXPECT_EQ(seen.body, "ping");
  EXPECT_TRUE(seen.ended);
  EXPECT_EQ(valueOf(seen.trailers, "x-checksum"), "abc");

  server->respond(id, 200, {{"content-type", "application/grpc"}}, "pong",
                  {{"grpc-status", "0"}, {"grpc-message", "done"}});
  pump();
  const Recorder::Response& response = events.responses[id];
  ASSERT_TRUE(response.head.has_value());
  EXPECT_FALSE(hasField(response.head->headers, "grpc-status"));
  EXPECT_EQ(response.body, "pong");
  EXPECT_EQ(response.ends, 1);
  EXPECT_EQ(valueOf(response.trailers, "grpc-status"), "0");
  EXPECT_EQ(valueOf(response.trailers, "grpc-message"), "done");
  EXPECT_EQ(events.log, (std::vector<std::string>{"head 1", "data 1", "end 1", "closed 1 0"}));
}

TEST_F(ClientCodecTest, ResponseBodyStopsAtTheWindowUntilConsumed) {
  ClientLimits limits;
  limits.initialWindowSize = 65536;
  start(limits);
  const int32_t id = client->submitRequest(request("GET", "/big"), true);
  pump();
  const std::string body = patterned(512 * 1024);
  server->respond(id, 200, {}, body);
  pump();
  pump();
  const Recorder::Response& response = events.responses[id];
  EXPECT_EQ(response.body.size(), 65536u);
  EXPECT_EQ(response.ends, 0);

  size_t consumedSoFar = 0;
  for (int round = 0; round < 100 && response.ends == 0; ++round) {
    client->consumed(id, response.body.size() - consumedSoFar);
    consumedSoFar = response.body.size();
    pump();
    EXPECT_LE(response.body.size() - consumedSoFar, 65536u);
  }
  EXPECT_EQ(response.ends, 1);
  EXPECT_TRUE(response.body == body);
  EXPECT_EQ(response.closes, 1);
}

TEST_F(ClientCodecTest, ClosedStreamGivesItsUnconsumedBytesBackToTheConnection) {
  ClientLimits limits;
  limits.initialWindowSize = 65536;
  limits.connectionWindowSize = 65536;
  start(limits);
  const int32_t first = client->submitRequest(request("GET", "/a"), true);
  const int32_t second = client->submitRequest(request("GET", "/b"), true);
  pump();
  server->respond(first, 200, {}, patterned(100 * 1024));
  pump();
  EXPECT_EQ(events.responses[first].body.size(), 65536u);
  server->respond(second, 200, {}, patterned(1000));
  pump();
  // The connection window is spent on the first stream, never consumed.
  EXPECT_EQ(events.responses[second].body.size(), 0u);

  client->resetStream(first, NGHTTP2_CANCEL);
  pump();
  EXPECT_EQ(events.responses[first].closes, 1);
  EXPECT_EQ(events.responses[first].closeCode, static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_EQ(events.responses[first].ends, 0);
  EXPECT_EQ(server->requests[first].resetReceived, std::optional<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_EQ(events.responses[second].body, patterned(1000));
  EXPECT_EQ(events.responses[second].ends, 1);
}

TEST_F(ClientCodecTest, ResponseBeforeTheRequestEndedClosesOnceTheBodyIsOut) {
  start();
  const int32_t id = client->submitRequest(request("POST", "/early"), false);
  client->appendBody(id, std::string_view("part"), false);
  pump();
  server->respond(id, 413, {}, "too large");
  pump();
  const Recorder::Response& response = events.responses[id];
  EXPECT_EQ(response.ends, 1);
  // Half closed: the server may still read the rest of the request.
  EXPECT_EQ(response.closes, 0);
  EXPECT_EQ(client->openStreams(), 1u);
  client->appendBody(id, std::string_view("rest"), true);
  pump();
  EXPECT_EQ(server->requests[id].body, "partrest");
  EXPECT_EQ(response.closes, 1);
  EXPECT_EQ(response.closeCode, 0u);
  EXPECT_EQ(events.log, (std::vector<std::string>{"head 1", "data 1", "end 1", "closed 1 0"}));
}

TEST_F(ClientCodecTest, ResetBeforeTheHeadersWentOutClosesOnce) {
  start();
  const int32_t id = client->submitRequest(request("GET", "/never"), true);
  client->resetStream(id, NGHTTP2_CANCEL);
  EXPECT_EQ(events.responses[id].closes, 0);  // reported from nextOutput()
  pump();
  EXPECT_EQ(events.responses[id].closes, 1);
  EXPECT_EQ(events.responses[id].closeCode, static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_FALSE(server->requests.count(id));
  EXPECT_EQ(client->openStreams(), 0u);
}

TEST_F(ClientCodecTest, ConnectionSpecificFieldsAreDroppedAndTeTrailersKept) {
  start();
  const int32_t grpc = client->submitRequest(request("POST", "/a",
                                                     {{"TE", "trailers"},
                                                      {"Connection", "TE"},
                                                      {"Keep-Alive", "timeout=5"},
                                                      {"Proxy-Connection", "keep-alive"},
                                                      {"Upgrade", "websocket"},
                                                      {"X-Mixed-Case", "kept"}}),
                                             true);
  const int32_t plain = client->submitRequest(
      request("GET", "/b", {{"te", "gzip, trailers"}, {"connection", "close"}}), true);
  pump();
  const TestServer::Request& first = server->requests[grpc];
  ASSERT_TRUE(first.headComplete);
  EXPECT_EQ(valueOf(first.headers, "te"), "trailers");
  EXPECT_EQ(valueOf(first.headers, "x-mixed-case"), "kept");
  for (const char* name : {"connection", "keep-alive", "proxy-connection", "upgrade"})
    EXPECT_FALSE(hasField(first.headers, name)) << name;
  const TestServer::Request& second = server->requests[plain];
  ASSERT_TRUE(second.headComplete);
  EXPECT_FALSE(hasField(second.headers, "te"));
  EXPECT_FALSE(hasField(second.headers, "connection"));
}

TEST_F(ClientCodecTest, RequestsMayBeSubmittedFromCallbacks) {
  start();
  int32_t followUp = -1;
  events.afterClose = [&](int32_t stream) {
    if (stream == 1) followUp = client->submitRequest(request("GET", "/next"), true);
  };
  const int32_t id = client->submitRequest(request("GET", "/first"), true);
  pump();
  server->respond(id, 200, {}, "first");
  pump();
  ASSERT_EQ(followUp, 3);
  EXPECT_TRUE(server->requests[followUp].headComplete);
  server->respond(followUp, 200, {}, "next");
  pump();
  EXPECT_EQ(events.responses[followUp].body, "next");
  EXPECT_EQ(events.responses[followUp].closeCode, 0u);
}

}  // namespace
}  // namespace meshgate::dp::http2
