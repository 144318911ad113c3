// Http2Client: the HTTP/2 client end of the proxy's HTTP/2 request-path tests
// (http2_request_path_test.cc). libnghttp2's client session — the HTTP/2 of curl and h2load — over
// a connection of its own to loopback (testing/client_transport.h), in cleartext (h2c with prior
// knowledge: the preface first) or over TLS with ALPN (the protocols a test offers, "h2" unless
// told). A test submits streams (headers, a body — whole, or sent piece by piece —, trailers),
// resets them, and pumps the connection with runUntil() until what it waits for holds; each
// stream's response (status, fields, body, trailers, how it closed) and the connection's GOAWAY and
// close are recorded. For malformed-frame tests, sendRaw() writes bytes as they are, and a client
// made with startSession = false runs no HTTP/2 at all: it sends only what the test gives it and
// collects what arrives (raw(); frames() splits it into frames, testing/http2_frames.h), which is
// also how a test speaks HTTP/1.1 over the TLS connection. Every call is bounded by a deadline
// (10 s unless told), so a proxy that does not answer fails the test instead of hanging it.
// Header-only, test code, used on the test thread only.
#pragma once

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/proxy/testing/client_transport.h"
#include "dataplane/proxy/testing/http2_frames.h"

namespace meshgate::dp::testing {

// Header fields, names lowercase, in order.
using Http2Fields = std::vector<std::pair<std::string, std::string>>;

inline std::optional<std::string> findField(const Http2Fields& fields, std::string_view name) {
  for (const auto& [n, v] : fields)
    if (n == name) return v;
  return std::nullopt;
}

// What came back on one stream.
struct Http2Response {
  unsigned status = 0;         // :status of the final response; 0 before one arrived
  unsigned interim = 0;        // 1xx responses before it
  Http2Fields headers;         // the final response's fields, pseudo-headers excluded
  std::string body;            // DATA payload, in order
  Http2Fields trailers;        // a header block after the body
  bool closed = false;         // the stream is closed (ended, or reset by either side)
  uint32_t errorCode = 0;      // of the close: 0 (NO_ERROR) for a stream that ended normally
  bool resetByServer = false;  // an RST_STREAM arrived for it

  std::optional<std::string> header(std::string_view name) const {
    return findField(headers, name);
  }
  size_t headerCount(std::string_view name) const {
    return static_cast<size_t>(std::count_if(headers.begin(), headers.end(),
                                             [&](const auto& f) { return f.first == name; }));
  }
  std::optional<std::string> trailer(std::string_view name) const {
    return findField(trailers, name);
  }
  // Closed normally, after a final response.
  bool complete() const { return closed && errorCode == 0 && status >= 200; }
};

// A GOAWAY the server sent.
struct Http2GoAway {
  uint32_t errorCode = 0;
  int32_t lastStreamId = 0;
};

struct Http2ClientOptions {
  // The default bound of the constructor's connect (and handshake) and of runUntil().
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  bool tls = false;
  // TLS: the ALPN protocols offered, in order (empty: no ALPN extension), and the SNI name.
  std::vector<std::string> alpn = {"h2"};
  std::string serverName = "app.test";
  // false: no HTTP/2 session — only what sendRaw() writes goes out, and what arrives is kept
  // as raw().
  bool startSession = true;
  // SETTINGS_INITIAL_WINDOW_SIZE the client announces (RFC 9113's default 65535 unless told).
  uint32_t initialWindowSize = 65535;
};

// A request for submit().
struct Http2Request {
  std::string method = "GET";
  std::string authority = "app.test";
  std::string path = "/";
  std::string scheme;   // empty: "https" over TLS, else "http"
  Http2Fields headers;  // after the pseudo-headers
  // nullopt: no body, END_STREAM on the HEADERS frame. Else DATA frames with these bytes.
  std::optional<std::string> body;
  // Sent as a header block after the body (which then is not nullopt: an empty body is fine).
  Http2Fields trailers;
  // More body follows through sendBody(); the stream stays open until sendBody(…, end = true).
  bool bodyOpen = false;

  // Chainable setters: Http2Request().withMethod("POST").withPath("/upload").withBody(bytes).
  Http2Request& withMethod(std::string value) {
    method = std::move(value);
    return *this;
  }
  Http2Request& withAuthority(std::string value) {
    authority = std::move(value);
    return *this;
  }
  Http2Request& withPath(std::string value) {
    path = std::move(value);
    return *this;
  }
  Http2Request& withHeaders(Http2Fields value) {
    headers = std::move(value);
    return *this;
  }
  Http2Request& withBody(std::string value) {
    body = std::move(value);
    return *this;
  }
  Http2Request& withTrailers(Http2Fields value) {
    trailers = std::move(value);
    return *this;
  }
  Http2Request& withOpenBody() {
    bodyOpen = true;
    return *this;
  }
};

class Http2Client {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Http2Client(uint16_t port, Http2ClientOptions options = {})
      : options_(std::move(options)),
        transport_([this](std::string_view plaintext) { plainReceived(plaintext); },
                   [this](std::string why) { failed(std::move(why)); }) {
    const auto deadline = Clock::now() + options_.timeout;
    if (!transport_.connect(port, deadline)) return;
    if (options_.tls &&
        !transport_.startTls({.alpn = options_.alpn, .serverName = options_.serverName}, deadline))
      return;
    if (options_.startSession) startSession();
  }
  ~Http2Client() {
    if (session_ != nullptr) nghttp2_session_del(session_);
    transport_.close();  // the connection after the session on it
  }
  Http2Client(const Http2Client&) = delete;
  Http2Client& operator=(const Http2Client&) = delete;

  // Connected (over TLS: handshaken), the session started, and no call failed so far; false:
  // error() says why.
  bool ok() const { return transport_.hasSocket() && error_.empty(); }
  // What went wrong last: "connect: Connection refused", "timed out", a nghttp2 error, …
  const std::string& error() const { return error_; }
  // TLS: the protocol ALPN chose ("h2", "http/1.1"), empty when none.
  const std::string& alpnProtocol() const { return transport_.alpnProtocol(); }

  // ---- Streams ----

  // Submits a request; its stream id (> 0), or -1 with error() set. Nothing is written before
  // the next runUntil() (or request(), sendRaw()).
  int32_t submit(const Http2Request& request) {
    if (session_ == nullptr) {
      failed("submit: no HTTP/2 session");
      return -1;
    }
    const std::string scheme =
        !request.scheme.empty() ? request.scheme : (options_.tls ? "https" : "http");
    std::vector<nghttp2_nv> nva;
    const auto add = [&nva](const std::string& name, const std::string& value) {
      nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                     reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                     value.size(), NGHTTP2_NV_FLAG_NONE});
    };
    const std::string methodName = ":method", schemeName = ":scheme", authorityName = ":authority",
                      pathName = ":path";
    add(methodName, request.method);
    add(schemeName, scheme);
    if (!request.authority.empty()) add(authorityName, request.authority);
    add(pathName, request.path);
    for (const auto& [name, value] : request.headers)
      add(name, value);

    const bool hasBody = request.body.has_value() || request.bodyOpen || !request.trailers.empty();
    nghttp2_data_provider provider{};
    provider.read_callback = &Http2Client::readBody;
    // The stream's state exists before nghttp2 asks for its body (in mem_send, after this).
    const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                              hasBody ? &provider : nullptr, nullptr);
    if (id < 0) {
      failed(std::string("submit: ") + nghttp2_strerror(id));
      return -1;
    }
    Stream& stream = streams_[id];
    stream.out = request.body.value_or(std::string());
    stream.outEnded = !request.bodyOpen;
    stream.trailers = request.trailers;
    return id;
  }
  int32_t submit(std::string method, std::string authority, std::string path,
                 Http2Fields headers = {}, std::optional<std::string> body = std::nullopt,
                 Http2Fields trailers = {}) {
    Http2Request request;
    request.method = std::move(method);
    request.authority = std::move(authority);
    request.path = std::move(path);
    request.headers = std::move(headers);
    request.body = std::move(body);
    request.trailers = std::move(trailers);
    return submit(request);
  }

  // More body for a stream submitted with bodyOpen; `end` ends it (trailers follow, if given).
  void sendBody(int32_t id, std::string_view data, bool end) {
    const auto it = streams_.find(id);
    if (it == streams_.end() || session_ == nullptr) return;
    it->second.out.append(data);
    it->second.outEnded = end;
    if (it->second.deferred) {
      it->second.deferred = false;
      nghttp2_session_resume_data(session_, id);
    }
  }

  // Resets the stream (RST_STREAM `errorCode`, CANCEL unless told).
  void resetStream(int32_t id, uint32_t errorCode = NGHTTP2_CANCEL) {
    if (session_ != nullptr) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, errorCode);
  }

  // What arrived on stream `id` so far (an empty response for an unknown id).
  const Http2Response& response(int32_t id) const {
    static const Http2Response kNone;
    const auto it = streams_.find(id);
    return it == streams_.end() ? kNone : it->second.response;
  }
  bool closed(int32_t id) const { return response(id).closed; }

  // submit(), then runUntil() the stream closed; the response as far as it got.
  Http2Response request(const Http2Request& request,
                        std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    const int32_t id = submit(request);
    if (id < 0) return {};
    runUntil([&] { return closed(id); }, timeout);
    return response(id);
  }
  Http2Response get(std::string path, std::string authority = "app.test",
                    Http2Fields headers = {}) {
    return request(Http2Request()
                       .withAuthority(std::move(authority))
                       .withPath(std::move(path))
                       .withHeaders(std::move(headers)));
  }

  // ---- The connection ----

  // Pumps the connection — writes what the session has, reads what arrives — until `condition`
  // holds (true), or the deadline passes or the connection ends without it holding (false, with
  // error() set).
  bool runUntil(const std::function<bool()>& condition,
                std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    const auto deadline = Clock::now() + timeout.value_or(options_.timeout);
    for (;;) {
      produce();
      transport_.flush();
      if (condition()) return true;
      if (!alive()) {
        if (error_.empty()) error_ = "connection ended";
        return condition();
      }
      if (Clock::now() >= deadline) {
        error_ = "timed out";
        return false;
      }
      waitAndRead(deadline);
    }
  }
  // Pumps for `duration` (a test that checks that something does NOT happen).
  void runFor(std::chrono::milliseconds duration) {
    runUntil([] { return false; }, duration);
    if (error_ == "timed out") error_.clear();
  }

  // Writes `bytes` as they are, after whatever the session had queued; then pumps until they
  // are written. False when the connection failed first.
  bool sendRaw(std::string_view bytes,
               std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    produce();
    transport_.queue(bytes);
    return runUntil([this] { return transport_.allWritten(); }, timeout);
  }

  // Pumps until the server closed the connection.
  bool waitForClose(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    return runUntil([this] { return peerClosed(); }, timeout);
  }
  bool waitForGoAway(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    return runUntil([this] { return goAway_.has_value(); }, timeout);
  }

  // The server closed the connection (FIN, reset, or TLS close_notify).
  bool peerClosed() const { return transport_.peerClosed(); }
  // The last GOAWAY received, and how many.
  const std::optional<Http2GoAway>& goAway() const { return goAway_; }
  size_t goAwayCount() const { return goAwayCount_; }
  // Without a session: every plaintext byte received.
  const std::string& raw() const { return raw_; }
  std::vector<Http2RawFrame> frames() const { return splitFrames(raw_); }
  // The session failed on what the server sent (nghttp2's reason), empty otherwise.
  const std::string& protocolError() const { return protocolError_; }

 private:
  struct Stream {
    Http2Response response;
    bool inTrailers = false;  // the header block being received is the trailers
    std::string out;          // request body bytes not sent yet
    bool outEnded = true;     // no more body comes after `out`
    bool deferred = false;    // nghttp2 waits for sendBody()
    Http2Fields trailers;
  };

  // ---- The session ----

  void startSession() {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks,
                                                            &Http2Client::onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &Http2Client::onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Http2Client::onData);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Http2Client::onFrame);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Http2Client::onClose);
    const int result = nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    if (result != 0) {
      session_ = nullptr;
      failed(std::string("nghttp2_session_client_new: ") + nghttp2_strerror(result));
      return;
    }
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.initialWindowSize}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
    if (!raw_.empty()) {
      // Bytes that arrived with the end of the TLS handshake.
      const std::string early = std::move(raw_);
      raw_.clear();
      plainReceived(early);
    }
    produce();
    transport_.flush();
  }

  // Moves what the session has to send into the transport's queue.
  void produce() {
    if (session_ == nullptr || !protocolError_.empty()) return;
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        protocolError_ = nghttp2_strerror(static_cast<int>(n));
        return;
      }
      if (n == 0) return;
      transport_.queue(
          std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(n)));
    }
  }

  // The transport's plaintext: into the session, or kept as raw() without one.
  void plainReceived(std::string_view bytes) {
    if (session_ == nullptr) {
      raw_.append(bytes);
      return;
    }
    if (!protocolError_.empty()) return;
    const ssize_t n = nghttp2_session_mem_recv(
        session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    if (n < 0) protocolError_ = nghttp2_strerror(static_cast<int>(n));
  }

  bool alive() const {
    if (!transport_.usable()) return false;
    if (session_ != nullptr && !protocolError_.empty()) return false;
    return true;
  }

  // Waits a short slice at most, so that runUntil() re-checks a condition that depends on
  // something else than this connection (an upstream's recording).
  void waitAndRead(Clock::time_point deadline) {
    transport_.waitAndTransfer(std::min(deadline, Clock::now() + kSlice));
  }

  static Http2Client& self(void* user) { return *static_cast<Http2Client*>(user); }

  static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buffer, size_t length,
                          uint32_t* flags, nghttp2_data_source*, void* user) {
    Http2Client& client = self(user);
    const auto it = client.streams_.find(id);
    if (it == client.streams_.end()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    Stream& stream = it->second;
    const size_t n = std::min(length, stream.out.size());
    std::memcpy(buffer, stream.out.data(), n);
    stream.out.erase(0, n);
    if (stream.out.empty()) {
      if (!stream.outEnded) {
        if (n > 0) return static_cast<ssize_t>(n);
        stream.deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!stream.trailers.empty()) {
        std::vector<nghttp2_nv> nva;
        for (auto& [name, value] : stream.trailers)
          nva.push_back({reinterpret_cast<uint8_t*>(name.data()),
                         reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                         NGHTTP2_NV_FLAG_NONE});
        if (nghttp2_submit_trailer(session, id, nva.data(), nva.size()) == 0)
          *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
    return static_cast<ssize_t>(n);
  }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    const auto it = self(user).streams_.find(frame->hd.stream_id);
    if (it == self(user).streams_.end()) return 0;
    Stream& stream = it->second;
    if (stream.response.status >= 200) {
      stream.inTrailers = true;
    } else if (stream.response.status >= 100) {
      ++stream.response.interim;  // the final response follows an interim one
      stream.response.status = 0;
      stream.response.headers.clear();
    }
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t nameLength, const uint8_t* value, size_t valueLength, uint8_t,
                      void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    const auto it = self(user).streams_.find(frame->hd.stream_id);
    if (it == self(user).streams_.end()) return 0;
    Stream& stream = it->second;
    const std::string_view n(reinterpret_cast<const char*>(name), nameLength);
    const std::string_view v(reinterpret_cast<const char*>(value), valueLength);
    if (stream.inTrailers) {
      stream.response.trailers.emplace_back(n, v);
    } else if (n == ":status") {
      stream.response.status = static_cast<unsigned>(std::stoul(std::string(v)));
    } else if (!n.starts_with(':')) {
      stream.response.headers.emplace_back(n, v);
    }
    return 0;
  }

  static int onData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t length,
                    void* user) {
    const auto it = self(user).streams_.find(id);
    if (it != self(user).streams_.end())
      it->second.response.body.append(reinterpret_cast<const char*>(data), length);
    return 0;
  }

  static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    Http2Client& client = self(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      client.goAway_ = Http2GoAway{frame->goaway.error_code, frame->goaway.last_stream_id};
      ++client.goAwayCount_;
    } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
      const auto it = client.streams_.find(frame->hd.stream_id);
      if (it != client.streams_.end()) it->second.response.resetByServer = true;
    }
    return 0;
  }

  static int onClose(nghttp2_session*, int32_t id, uint32_t errorCode, void* user) {
    const auto it = self(user).streams_.find(id);
    if (it != self(user).streams_.end()) {
      it->second.response.closed = true;
      it->second.response.errorCode = errorCode;
    }
    return 0;
  }

  bool failed(std::string why) {
    error_ = std::move(why);
    return false;
  }

  static constexpr std::chrono::milliseconds kSlice{5};

  Http2ClientOptions options_;
  std::string error_;
  ClientTransport transport_;

  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  std::optional<Http2GoAway> goAway_;
  size_t goAwayCount_ = 0;
  std::string protocolError_;
  std::string raw_;
};

}  // namespace meshgate::dp::testing
