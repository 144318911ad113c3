// ClientCodec against a real nghttp2 server session: request heads as the server sees them,
// responses (interim heads, bodies, trailers), flow control, resets, GOAWAY, the server's stream
// limit, header list size, and malformed server bytes.
#include "dataplane/http2/client_codec.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meshgate::dp::http2 {
namespace {

constexpr std::string_view kAbsent = "<absent>";

std::string valueOf(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& field : fields)
    if (field.name == name) return field.value;
  return std::string(kAbsent);
}

bool hasField(const std::vector<Field>& fields, std::string_view name) {
  return valueOf(fields, name) != kAbsent;
}

// Bytes that show reordering or loss: position-dependent, not periodic over a frame.
std::string patterned(size_t size) {
  std::string text(size, '\0');
  for (size_t i = 0; i < size; ++i)
    text[i] = static_cast<char>('a' + (i * 31 + i / 7) % 26);
  return text;
}

std::vector<nghttp2_nv> nameValues(const std::vector<Field>& fields) {
  std::vector<nghttp2_nv> list;
  for (const Field& field : fields) {
    list.push_back(
        nghttp2_nv{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(field.name.data())),
                   const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(field.value.data())),
                   field.name.size(), field.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return list;
}

// An HTTP/2 server on an nghttp2 server session: it records what the client sent and answers as
// a test tells it. HTTP messaging checks are off so that it reports whatever the client sends.
class TestServer {
 public:
  struct Request {
    std::vector<Field> pseudoHeaders;
    std::vector<Field> headers;
    std::vector<Field> trailers;
    std::string body;
    bool headComplete = false;
    bool ended = false;
    std::optional<uint32_t> resetReceived;
    std::optional<uint32_t> closedWith;
  };

  explicit TestServer(const std::vector<nghttp2_settings_entry>& settings = {}) {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &TestServer::onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &TestServer::onFrame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &TestServer::onData);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &TestServer::onClose);
    nghttp2_option* option = nullptr;
    nghttp2_option_new(&option);
    nghttp2_option_set_no_http_messaging(option, 1);
    nghttp2_session_server_new2(&session_, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  }
  ~TestServer() { nghttp2_session_del(session_); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  bool receive(std::string_view bytes) {
    return nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                    bytes.size()) == static_cast<ssize_t>(bytes.size());
  }

  std::string output() {
    std::string bytes;
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t length = nghttp2_session_mem_send(session_, &data);
      if (length <= 0) break;
      bytes.append(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
    }
    return bytes;
  }

  // A final response; with neither body nor trailers the HEADERS frame ends the stream.
  void respond(int32_t stream, unsigned status, std::vector<Field> headers, std::string body,
               std::vector<Field> trailers = {}) {
    headers.insert(headers.begin(), Field{":status", std::to_string(status)});
    const std::vector<nghttp2_nv> list = nameValues(headers);
    if (body.empty() && trailers.empty()) {
      ASSERT_EQ(nghttp2_submit_response(session_, stream, list.data(), list.size(), nullptr), 0);
      return;
    }
    bodies_[stream] = PendingBody{std::move(body), 0, std::move(trailers)};
    nghttp2_data_provider provider{};
    provider.read_callback = &TestServer::readBody;
    ASSERT_EQ(nghttp2_submit_response(session_, stream, list.data(), list.size(), &provider), 0);
  }

  void informational(int32_t stream, unsigned status, std::vector<Field> headers) {
    headers.insert(headers.begin(), Field{":status", std::to_string(status)});
    const std::vector<nghttp2_nv> list = nameValues(headers);
    ASSERT_EQ(nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream, nullptr, list.data(),
                                     list.size(), nullptr),
              0);
  }

  void reset(int32_t stream, uint32_t errorCode) {
    ASSERT_EQ(nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, errorCode), 0);
  }

  void goAway(int32_t lastStreamId, uint32_t errorCode) {
    ASSERT_EQ(
        nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, lastStreamId, errorCode, nullptr, 0), 0);
  }

  uint32_t clientSetting(nghttp2_settings_id id) {
    return nghttp2_session_get_remote_settings(session_, id);
  }

  std::map<int32_t, Request> requests;
  std::optional<uint32_t> goAwayReceived;  // the client's GOAWAY error code

 private:
  struct PendingBody {
    std::string bytes;
    size_t offset = 0;
    std::vector<Field> trailers;
  };

  static TestServer& self(void* user) { return *static_cast<TestServer*>(user); }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t nameLength, const uint8_t* value, size_t valueLength, uint8_t,
                      void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Request& request = self(user).requests[frame->hd.stream_id];
    Field field{std::string(reinterpret_cast<const char*>(name), nameLength),
                std::string(reinterpret_cast<const char*>(value), valueLength)};
    if (request.headComplete) {
      request.trailers.push_back(std::move(field));
    } else if (!field.name.empty() && field.name.front() == ':') {
      request.pseudoHeaders.push_back(std::move(field));
    } else {
      request.headers.push_back(std::move(field));
    }
    return 0;
  }

  static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    TestServer& server = self(user);
    const bool endStream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        Request& request = server.requests[frame->hd.stream_id];
        request.headComplete = true;
        if (endStream) request.ended = true;
        break;
      }
      case NGHTTP2_DATA:
        if (endStream) server.requests[frame->hd.stream_id].ended = true;
        break;
      case NGHTTP2_RST_STREAM:
        server.requests[frame->hd.stream_id].resetReceived = frame->rst_stream.error_code;
        break;
      case NGHTTP2_GOAWAY:
        server.goAwayReceived = frame->goaway.error_code;
        break;
      default:
        break;
    }
    return 0;
  }

  static int onData(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data, size_t length,
                    void* user) {
    self(user).requests[stream].body.append(reinterpret_cast<const char*>(data), length);
    return 0;
  }

  static int onClose(nghttp2_session*, int32_t stream, uint32_t errorCode, void* user) {
    self(user).requests[stream].closedWith = errorCode;
    return 0;
  }

  static ssize_t readBody(nghttp2_session* session, int32_t stream, uint8_t* buffer, size_t length,
                          uint32_t* flags, nghttp2_data_source*, void* user) {
    PendingBody& body = self(user).bodies_[stream];
    const size_t taken = std::min(length, body.bytes.size() - body.offset);
    std::copy_n(body.bytes.data() + body.offset, taken, buffer);
    body.offset += taken;
    if (body.offset == body.bytes.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!body.trailers.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        const std::vector<nghttp2_nv> list = nameValues(body.trailers);
        if (nghttp2_submit_trailer(session, stream, list.data(), list.size()) != 0)
          return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
    }
    return static_cast<ssize_t>(taken);
  }

  nghttp2_session* session_ = nullptr;
  std::map<int32_t, PendingBody> bodies_;
};

// Everything the codec reported, per stream and in order.
class Recorder : public ClientCodecEvents {
 public:
  struct Response {
    std::optional<ResponseHead> head;
    int heads = 0;
    std::string body;
    int ends = 0;
    std::vector<Field> trailers;
    int closes = 0;
    uint32_t closeCode = 0;
    int writableEvents = 0;
  };

  void onResponseHead(int32_t stream, ResponseHead head) override {
    Response& response = responses[stream];
    response.head = std::move(head);
    ++response.heads;
    log.push_back("head " + std::to_string(stream));
  }
  void onResponseData(int32_t stream, std::span<const char> data) override {
    responses[stream].body.append(data.data(), data.size());
    const std::string entry = "data " + std::to_string(stream);
    if (log.empty() || log.back() != entry) log.push_back(entry);
  }
  void onResponseEnd(int32_t stream, std::vector<Field> trailers) override {
    Response& response = responses[stream];
    response.trailers = std::move(trailers);
    ++response.ends;
    log.push_back("end " + std::to_string(stream));
  }
  void onStreamClosed(int32_t stream, uint32_t errorCode) override {
    Response& response = responses[stream];
    ++response.closes;
    response.closeCode = errorCode;
    log.push_back("closed " + std::to_string(stream) + " " + std::to_string(errorCode));
    if (afterClose) afterClose(stream);
  }
  void onStreamWritable(int32_t stream) override { ++responses[stream].writableEvents; }
  void onGoAway(int32_t lastStreamId, uint32_t errorCode) override {
    ++goAways;
    goAwayLastStream = lastStreamId;
    goAwayCode = errorCode;
    log.push_back("goaway " + std::to_string(lastStreamId) + " " + std::to_string(errorCode));
  }

  std::map<int32_t, Response> responses;
  std::vector<std::string> log;
  int goAways = 0;
  int32_t goAwayLastStream = -1;
  uint32_t goAwayCode = 0;
  std::function<void(int32_t)> afterClose;
};

RequestHead request(std::string method, std::string path, std::vector<Field> headers = {}) {
  RequestHead head;
  head.method = std::move(method);
  head.scheme = "https";
  head.authority = "api.example.test";
  head.path = std::move(path);
  head.headers = std::move(headers);
  return head;
}

class ClientCodecTest : public ::testing::Test {
 protected:
  void start(const ClientLimits& limits = {},
             const std::vector<nghttp2_settings_entry>& serverSettings = {}) {
    server = std::make_unique<TestServer>(serverSettings);
    client = std::make_unique<ClientCodec>(events, limits);
  }

  std::string drainClient() {
    std::string bytes;
    for (std::span<const char> out = client->nextOutput(); !out.empty(); out = client->nextOutput())
      bytes.append(out.data(), out.size());
    return bytes;
  }

  // Moves bytes both ways until neither side has anything to write.
  void pump() {
    for (int round = 0; round < 10000; ++round) {
      const std::string toServer = drainClient();
      if (!toServer.empty()) {
        ASSERT_TRUE(server->receive(toServer));
      }
      const std::string toClient = server->output();
      if (!toClient.empty() && !client->receive(toClient)) clientFailed = true;
      if (toServer.empty() && toClient.empty()) return;
    }
    FAIL() << "the connection did not settle";
  }

  Recorder events;
  std::unique_ptr<TestServer> server;
  std::unique_ptr<ClientCodec> client;
  bool clientFailed = false;
};

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
