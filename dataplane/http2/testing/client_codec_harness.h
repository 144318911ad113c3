// Harness for the ClientCodec tests (client_codec_test.cc, client_codec_server_behaviour_test.cc):
// an HTTP/2 server on an nghttp2 server session (TestServer) that records what the client sent
// and answers as a test tells it, a Recorder of the codec's events, field and body helpers, and
// the ClientCodecTest fixture that pumps bytes between codec and server. Header-only, test code.
#pragma once

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/http2/client_codec.h"

namespace meshgate::dp::http2 {

inline constexpr std::string_view kAbsent = "<absent>";

inline std::string valueOf(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& field : fields)
    if (field.name == name) return field.value;
  return std::string(kAbsent);
}

inline bool hasField(const std::vector<Field>& fields, std::string_view name) {
  return valueOf(fields, name) != kAbsent;
}

// Bytes that show reordering or loss: position-dependent, not periodic over a frame.
inline std::string patterned(size_t size) {
  std::string text(size, '\0');
  for (size_t i = 0; i < size; ++i)
    text[i] = static_cast<char>('a' + (i * 31 + i / 7) % 26);
  return text;
}

inline std::vector<nghttp2_nv> nameValues(const std::vector<Field>& fields) {
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

inline RequestHead request(std::string method, std::string path, std::vector<Field> headers = {}) {
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

}  // namespace meshgate::dp::http2
