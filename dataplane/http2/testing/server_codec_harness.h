// Harness for the ServerCodec tests (server_codec_test.cc, server_codec_defences_test.cc): a
// recording ServerCodecEvents, an nghttp2 client session (TestClient) that records what it
// receives, helpers for hand-made frames and HPACK blocks (for attacks a well-behaved client
// cannot send) and for reading the server's frames, and the ServerCodecTest fixture that pumps
// bytes between client and codec. Header-only, test code.
#pragma once

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/http2/server_codec.h"

namespace meshgate::dp::http2 {

inline std::string pattern(size_t size, size_t seed = 0) {
  std::string text(size, '\0');
  for (size_t i = 0; i < size; ++i)
    text[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return text;
}

inline std::span<const char> spanOf(std::string_view text) {
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

inline ClientBody bodyOf(std::string data, bool ended = true, std::vector<Field> trailers = {}) {
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

inline constexpr uint8_t kData = 0x0, kHeaders = 0x1, kRstStream = 0x3, kSettings = 0x4,
                         kPing = 0x6, kGoAway = 0x7, kContinuation = 0x9;
inline constexpr uint8_t kEndStream = 0x1, kEndHeaders = 0x4, kAck = 0x1;

inline std::string frameBytes(uint8_t type, uint8_t flags, int32_t streamId,
                              std::string_view payload) {
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

inline uint32_t bigEndian32(std::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i)
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

// The server's frames (its output carries no preface).
inline std::vector<RawFrame> parseFrames(std::string_view bytes) {
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

inline std::optional<uint32_t> goAwayCode(const std::vector<RawFrame>& frames) {
  for (const RawFrame& frame : frames)
    if (frame.type == kGoAway) return bigEndian32(std::string_view(frame.payload).substr(4));
  return std::nullopt;
}

// HPACK literal field without indexing, new name (RFC 7541 6.2.2); short strings only.
inline std::string literalField(std::string_view name, std::string_view value) {
  std::string bytes(1, '\0');
  bytes.push_back(static_cast<char>(name.size()));
  bytes.append(name);
  bytes.push_back(static_cast<char>(value.size()));
  bytes.append(value);
  return bytes;
}

// A GET's header block from HPACK's static table: :method GET, :scheme https, :path /,
// :authority (literal).
inline std::string getRequestBlock() {
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

}  // namespace meshgate::dp::http2
