// Tests of ServerCodec against a real nghttp2 client session (and hand-made frames for attacks a
// well-behaved client cannot send): request and response events, bodies, trailers, flow control
// and consumed(), backpressure, stream limits, goAway(), and the defences — rapid reset,
// CONTINUATION, SETTINGS and PING floods, oversized header lists, invalid messages.
#include "dataplane/http2/server_codec.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshgate::dp::http2 {
namespace {

std::string pattern(size_t size, size_t seed = 0) {
  std::string text(size, '\0');
  for (size_t i = 0; i < size; ++i)
    text[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return text;
}

std::span<const char> spanOf(std::string_view text) {
  return {text.data(), text.size()};
}

// What the codec reported for one stream.
struct ServerStream {
  std::optional<RequestHead> head;
  std::string body;
  bool ended = false;
  std::vector<Field> trailers;
  std::optional<uint32_t> closedWith;
  int writableCalls = 0;
  size_t queuedWhenWritable = 0;
};

class RecordingEvents : public ServerCodecEvents {
 public:
  void onRequestHead(int32_t stream, RequestHead head) override {
    EXPECT_FALSE(streams[stream].head) << "two heads for stream " << stream;
    streams[stream].head = std::move(head);
    if (whenHead) whenHead(stream);
  }
  void onRequestData(int32_t stream, std::span<const char> data) override {
    EXPECT_TRUE(streams[stream].head) << "data before the head of stream " << stream;
    streams[stream].body.append(data.data(), data.size());
    if (consumeAtOnce) codec->consumed(stream, data.size());
  }
  void onRequestEnd(int32_t stream, std::vector<Field> trailers) override {
    EXPECT_FALSE(streams[stream].ended) << "two ends for stream " << stream;
    streams[stream].ended = true;
    streams[stream].trailers = std::move(trailers);
    if (whenEnd) whenEnd(stream);
  }
  void onStreamClosed(int32_t stream, uint32_t errorCode) override {
    EXPECT_FALSE(streams[stream].closedWith) << "closed twice: stream " << stream;
    streams[stream].closedWith = errorCode;
  }
  void onStreamWritable(int32_t stream) override {
    ++streams[stream].writableCalls;
    streams[stream].queuedWhenWritable = codec->queuedBody(stream);
  }

  size_t headsSeen() const {
    return static_cast<size_t>(std::count_if(streams.begin(), streams.end(),
                                             [](const auto& entry) { return entry.second.head; }));
  }

  ServerCodec* codec = nullptr;
  std::map<int32_t, ServerStream> streams;
  bool consumeAtOnce = false;
  std::function<void(int32_t)> whenHead;
  std::function<void(int32_t)> whenEnd;
};

// What the client saw for one stream.
struct ClientStream {
  int status = 0;
  std::vector<Field> headers;
  std::string body;
  std::vector<Field> trailers;
  bool trailersEndedStream = false;
  std::vector<uint8_t> frameTypes;     // HEADERS and DATA frames received, in order
  std::optional<uint32_t> resetWith;   // RST_STREAM received
  std::optional<uint32_t> closedWith;  // stream closed (0: normally)
};

struct GoAwayFrame {
  int32_t lastStreamId;
  uint32_t errorCode;
};

// A request body the client sends through its data provider; `ended` false holds the stream
// open once the bytes are out.
struct ClientBody {
  std::string data;
  size_t offset = 0;
  bool ended = true;
  std::vector<Field> trailers;
};

ClientBody bodyOf(std::string data, bool ended = true, std::vector<Field> trailers = {}) {
  ClientBody body;
  body.data = std::move(data);
  body.ended = ended;
  body.trailers = std::move(trailers);
  return body;
}

// An nghttp2 client session that records what it receives.
class TestClient {
 public:
  explicit TestClient(size_t maxHeaderBlock = 64 * 1024) {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &TestClient::onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &TestClient::onFrame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &TestClient::onData);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &TestClient::onClose);
    nghttp2_session_callbacks_set_select_padding_callback(callbacks, &TestClient::selectPadding);
    nghttp2_option* option = nullptr;
    nghttp2_option_new(&option);
    nghttp2_option_set_max_send_header_block_length(option, maxHeaderBlock);
    nghttp2_session_client_new2(&session_, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~TestClient() { nghttp2_session_del(session_); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // Submits a request; `body` (absent: none, END_STREAM on the HEADERS) is sent from bodies_.
  int32_t request(const std::vector<Field>& fields, std::optional<ClientBody> body = std::nullopt) {
    std::vector<nghttp2_nv> list;
    for (const Field& field : fields) {
      list.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(field.name.data())),
                                reinterpret_cast<uint8_t*>(const_cast<char*>(field.value.data())),
                                field.name.size(), field.value.size(), NGHTTP2_NV_FLAG_NONE});
    }
    if (!body)
      return nghttp2_submit_request(session_, nullptr, list.data(), list.size(), nullptr, this);
    nghttp2_data_provider provider{};
    provider.read_callback = &TestClient::readBody;
    const int32_t id =
        nghttp2_submit_request(session_, nullptr, list.data(), list.size(), &provider, this);
    if (id > 0) bodies_[id] = std::move(*body);
    return id;
  }

  int32_t get(const std::string& path, std::vector<Field> extra = {}) {
    std::vector<Field> fields = {
        {":method", "GET"}, {":scheme", "https"}, {":authority", "shop.example"}, {":path", path}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    return request(fields);
  }

  int32_t post(const std::string& path, ClientBody body, std::vector<Field> extra = {}) {
    std::vector<Field> fields = {
        {":method", "POST"}, {":scheme", "https"}, {":authority", "shop.example"}, {":path", path}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    return request(fields, std::move(body));
  }

  // More bytes for a held-open body; `end` finishes it.
  void extendBody(int32_t id, std::string_view more, bool end) {
    ClientBody& body = bodies_[id];
    body.data.append(more);
    body.ended = end;
    nghttp2_session_resume_data(session_, id);
  }

  void reset(int32_t id, uint32_t code) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, code);
  }

  std::string takeOutput() {
    std::string out;
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t length = nghttp2_session_mem_send(session_, &data);
      EXPECT_GE(length, 0) << nghttp2_strerror(static_cast<int>(length));
      if (length <= 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
    }
    bytesSent += out.size();
    return out;
  }

  void feed(std::string_view bytes) {
    const ssize_t result = nghttp2_session_mem_recv(
        session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    EXPECT_EQ(result, static_cast<ssize_t>(bytes.size()))
        << "client: " << nghttp2_strerror(static_cast<int>(result));
  }

  nghttp2_session* session() { return session_; }

  std::map<int32_t, ClientStream> streams;
  std::vector<GoAwayFrame> goAways;
  size_t bytesSent = 0;
  size_t padding = 0;         // bytes of padding added to each DATA frame
  size_t dataFrameBytes = 0;  // when set, the most body bytes in one DATA frame

 private:
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t nameLength, const uint8_t* value, size_t valueLength, uint8_t,
                      void* user) {
    auto& self = *static_cast<TestClient*>(user);
    ClientStream& stream = self.streams[frame->hd.stream_id];
    const std::string fieldName(reinterpret_cast<const char*>(name), nameLength);
    const std::string fieldValue(reinterpret_cast<const char*>(value), valueLength);
    if (frame->headers.cat == NGHTTP2_HCAT_HEADERS && stream.status >= 200) {
      stream.trailers.push_back({fieldName, fieldValue});
    } else if (fieldName == ":status") {
      stream.status = std::stoi(fieldValue);
    } else {
      stream.headers.push_back({fieldName, fieldValue});
    }
    return 0;
  }

  static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<TestClient*>(user);
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        ClientStream& stream = self.streams[frame->hd.stream_id];
        stream.frameTypes.push_back(NGHTTP2_HEADERS);
        if (frame->headers.cat == NGHTTP2_HCAT_HEADERS &&
            (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
          stream.trailersEndedStream = true;
        break;
      }
      case NGHTTP2_DATA:
        self.streams[frame->hd.stream_id].frameTypes.push_back(NGHTTP2_DATA);
        break;
      case NGHTTP2_RST_STREAM:
        self.streams[frame->hd.stream_id].resetWith = frame->rst_stream.error_code;
        break;
      case NGHTTP2_GOAWAY:
        self.goAways.push_back({frame->goaway.last_stream_id, frame->goaway.error_code});
        break;
      default:
        break;
    }
    return 0;
  }

  static int onData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t length,
                    void* user) {
    static_cast<TestClient*>(user)->streams[id].body.append(reinterpret_cast<const char*>(data),
                                                            length);
    return 0;
  }

  static int onClose(nghttp2_session*, int32_t id, uint32_t errorCode, void* user) {
    static_cast<TestClient*>(user)->streams[id].closedWith = errorCode;
    return 0;
  }

  static ssize_t selectPadding(nghttp2_session*, const nghttp2_frame* frame, size_t maxPayload,
                               void* user) {
    const auto& self = *static_cast<TestClient*>(user);
    if (frame->hd.type != NGHTTP2_DATA || self.padding == 0) return frame->hd.length;
    return static_cast<ssize_t>(std::min(maxPayload, frame->hd.length + self.padding));
  }

  static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buffer, size_t length,
                          uint32_t* flags, nghttp2_data_source*, void* user) {
    auto& self = *static_cast<TestClient*>(user);
    ClientBody& body = self.bodies_[id];
    if (self.dataFrameBytes > 0) length = std::min(length, self.dataFrameBytes);
    const size_t taken = std::min(length, body.data.size() - body.offset);
    if (taken == 0 && !body.ended) return NGHTTP2_ERR_DEFERRED;
    std::memcpy(buffer, body.data.data() + body.offset, taken);
    body.offset += taken;
    if (body.ended && body.offset == body.data.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!body.trailers.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        std::vector<nghttp2_nv> list;
        for (const Field& field : body.trailers) {
          list.push_back(
              nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(field.name.data())),
                         reinterpret_cast<uint8_t*>(const_cast<char*>(field.value.data())),
                         field.name.size(), field.value.size(), NGHTTP2_NV_FLAG_NONE});
        }
        nghttp2_submit_trailer(session, id, list.data(), list.size());
      }
    }
    return static_cast<ssize_t>(taken);
  }

  nghttp2_session* session_ = nullptr;
  std::map<int32_t, ClientBody> bodies_;
};

// A frame as it appears on the wire, for hand-made client bytes and for reading server bytes.
struct RawFrame {
  uint8_t type;
  uint8_t flags;
  int32_t streamId;
  std::string payload;
};

constexpr uint8_t kData = 0x0, kHeaders = 0x1, kRstStream = 0x3, kSettings = 0x4, kPing = 0x6,
                  kGoAway = 0x7, kContinuation = 0x9;
constexpr uint8_t kEndStream = 0x1, kEndHeaders = 0x4, kAck = 0x1;

std::string frameBytes(uint8_t type, uint8_t flags, int32_t streamId, std::string_view payload) {
  std::string bytes;
  const size_t length = payload.size();
  bytes.push_back(static_cast<char>((length >> 16) & 0xff));
  bytes.push_back(static_cast<char>((length >> 8) & 0xff));
  bytes.push_back(static_cast<char>(length & 0xff));
  bytes.push_back(static_cast<char>(type));
  bytes.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<char>((static_cast<uint32_t>(streamId) >> shift) & 0xff));
  bytes.append(payload);
  return bytes;
}

uint32_t bigEndian32(std::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i)
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

// The server's frames (its output carries no preface).
std::vector<RawFrame> parseFrames(std::string_view bytes) {
  std::vector<RawFrame> frames;
  while (bytes.size() >= 9) {
    const size_t length = (size_t{static_cast<uint8_t>(bytes[0])} << 16) |
                          (size_t{static_cast<uint8_t>(bytes[1])} << 8) |
                          static_cast<uint8_t>(bytes[2]);
    if (bytes.size() < 9 + length) break;
    frames.push_back({static_cast<uint8_t>(bytes[3]), static_cast<uint8_t>(bytes[4]),
                      static_cast<int32_t>(bigEndian32(bytes.substr(5)) & 0x7fffffff),
                      std::string(bytes.substr(9, length))});
    bytes.remove_prefix(9 + length);
  }
  return frames;
}

std::optional<uint32_t> goAwayCode(const std::vector<RawFrame>& frames) {
  for (const RawFrame& frame : frames)
    if (frame.type == kGoAway) return bigEndian32(std::string_view(frame.payload).substr(4));
  return std::nullopt;
}

// HPACK literal field without indexing, new name (RFC 7541 6.2.2); short strings only.
std::string literalField(std::string_view name, std::string_view value) {
  std::string bytes(1, '\0');
  bytes.push_back(static_cast<char>(name.size()));
  bytes.append(name);
  bytes.push_back(static_cast<char>(value.size()));
  bytes.append(value);
  return bytes;
}

// A GET's header block from HPACK's static table: :method GET, :scheme https, :path /,
// :authority (literal).
std::string getRequestBlock() {
  std::string block = "\x82\x87\x84";
  block += '\x01';  // literal without indexing, name :authority (static index 1)
  block += '\x04';
  block += "host";
  return block;
}

class ServerCodecTest : public ::testing::Test {
 protected:
  void start(const ServerLimits& limits = {}) {
    codec_ = std::make_unique<ServerCodec>(events_, limits);
    events_.codec = codec_.get();
  }

  // All the codec has to write, in one string.
  std::string drainServer() {
    std::string out;
    for (int round = 0; round < 100000; ++round) {
      const std::span<const char> chunk = codec_->nextOutput();
      if (chunk.empty()) return out;
      out.append(chunk.data(), chunk.size());
    }
    ADD_FAILURE() << "the codec never stopped writing";
    return out;
  }

  // Moves bytes both ways until neither side has anything to write.
  void pump() {
    for (int round = 0; round < 10000; ++round) {
      const std::string fromClient = client_->takeOutput();
      if (!fromClient.empty()) receiveOk_ = codec_->receive(spanOf(fromClient)) && receiveOk_;
      const std::string fromServer = drainServer();
      if (!fromServer.empty()) client_->feed(fromServer);
      if (fromClient.empty() && fromServer.empty()) return;
    }
    ADD_FAILURE() << "pump never settled";
  }

  // Sends raw client bytes (the preface first) and returns what the codec answers.
  bool sendRaw(std::string_view bytes) { return codec_->receive(spanOf(bytes)); }

  static std::string rawPreface() {
    return std::string(kClientPreface) + frameBytes(kSettings, 0, 0, "");
  }

  RecordingEvents events_;
  std::unique_ptr<ServerCodec> codec_;
  std::unique_ptr<TestClient> client_ = std::make_unique<TestClient>();
  bool receiveOk_ = true;
};

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

TEST_F(ServerCodecTest, BadPrefaceFails) {
  start();
  EXPECT_FALSE(sendRaw("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_NE(codec_->error().find("preface"), std::string_view::npos) << codec_->error();
}

}  // namespace
}  // namespace meshgate::dp::http2
