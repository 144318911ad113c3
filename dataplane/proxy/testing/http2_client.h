// Http2Client: the HTTP/2 client end of the proxy's HTTP/2 request-path tests
// (http2_request_path_test.cc). libnghttp2's client session — the HTTP/2 of curl and h2load —
// over a loopback socket of its own, in cleartext (h2c with prior knowledge: the preface first)
// or over TLS with ALPN (the protocols a test offers, "h2" unless told). A test submits streams
// (headers, a body — whole, or sent piece by piece —, trailers), resets them, and pumps the
// connection with runUntil() until what it waits for holds; each stream's response (status,
// fields, body, trailers, how it closed) and the connection's GOAWAY and close are recorded. For
// malformed-frame tests, sendRaw() writes bytes as they are, and a client made with
// startSession = false runs no HTTP/2 at all: it sends only what the test gives it and collects
// what arrives (raw(); frames() splits it into frames, testing/http2_frames.h), which is also how a
// test speaks HTTP/1.1 over the TLS connection. Every call is bounded by a deadline (10 s unless
// told), so a proxy that does not answer fails the test instead of hanging it. Header-only, test
// code, used on the test thread only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
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
      : options_(std::move(options)) {
    const auto deadline = Clock::now() + options_.timeout;
    if (!connectSocket(port, deadline)) return;
    if (options_.tls && !startTls(deadline)) return;
    if (options_.startSession) startSession();
  }
  ~Http2Client() {
    if (session_ != nullptr) nghttp2_session_del(session_);
    if (ssl_ != nullptr) SSL_free(ssl_);  // frees its BIOs
    if (sslContext_ != nullptr) SSL_CTX_free(sslContext_);
    if (fd_ >= 0) ::close(fd_);
  }
  Http2Client(const Http2Client&) = delete;
  Http2Client& operator=(const Http2Client&) = delete;

  // Connected (over TLS: handshaken), the session started, and no call failed so far; false:
  // error() says why.
  bool ok() const { return fd_ >= 0 && error_.empty(); }
  // What went wrong last: "connect: Connection refused", "timed out", a nghttp2 error, …
  const std::string& error() const { return error_; }
  // TLS: the protocol ALPN chose ("h2", "http/1.1"), empty when none.
  const std::string& alpnProtocol() const { return alpn_; }

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
      flushSome();
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
    queuePlain(bytes);
    return runUntil([this] { return wire_.size() == wireSent_; }, timeout);
  }

  // Pumps until the server closed the connection.
  bool waitForClose(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    return runUntil([this] { return peerClosed(); }, timeout);
  }
  bool waitForGoAway(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    return runUntil([this] { return goAway_.has_value(); }, timeout);
  }

  // The server closed the connection (FIN, reset, or TLS close_notify).
  bool peerClosed() const { return peerClosed_ || tlsClosed_; }
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

  // ---- Socket and TLS ----

  bool connectSocket(uint16_t port, Clock::time_point deadline) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail("socket");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      if (errno != EINPROGRESS) return fail("connect");
      if (!pollFor(POLLOUT, deadline)) return failed("connect: timed out");
      int soError = 0;
      socklen_t length = sizeof soError;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soError, &length);
      if (soError != 0) return failed("connect: " + std::string(std::strerror(soError)));
    }
    return true;
  }

  // TLS over memory BIOs: the client moves the bytes between them and the socket itself (with
  // MSG_NOSIGNAL, so a reset connection is an error, not SIGPIPE).
  bool startTls(Clock::time_point deadline) {
    sslContext_ = SSL_CTX_new(TLS_client_method());
    if (sslContext_ == nullptr) return failed("SSL_CTX_new failed");
    SSL_CTX_set_verify(sslContext_, SSL_VERIFY_NONE, nullptr);  // a test certificate
    ssl_ = SSL_new(sslContext_);
    if (ssl_ == nullptr) return failed("SSL_new failed");
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);  // empty: "retry", not EOF
    SSL_set_bio(ssl_, in, out);
    sslIn_ = in;
    sslOut_ = out;
    if (!options_.alpn.empty()) {
      std::string wire;
      for (const auto& protocol : options_.alpn) {
        wire.push_back(static_cast<char>(protocol.size()));
        wire.append(protocol);
      }
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
    }
    if (!options_.serverName.empty()) SSL_set_tlsext_host_name(ssl_, options_.serverName.c_str());
    SSL_set_connect_state(ssl_);
    for (;;) {
      ERR_clear_error();
      const int result = SSL_do_handshake(ssl_);
      drainTlsOutput();
      flushSome();
      if (result == 1) break;
      const int error = SSL_get_error(ssl_, result);
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
        return failed("TLS handshake failed: " + tlsErrors());
      if (!socketIo(deadline, /*feedTls=*/false)) {
        if (error_.empty()) error_ = "TLS handshake: connection ended";
        return false;
      }
      if (peerClosed_) return failed("TLS handshake: connection closed by the server");
    }
    const unsigned char* protocol = nullptr;
    unsigned length = 0;
    SSL_get0_alpn_selected(ssl_, &protocol, &length);
    if (protocol != nullptr) alpn_.assign(reinterpret_cast<const char*>(protocol), length);
    readTls();  // what came with the end of the handshake (kept as raw() until a session starts)
    return true;
  }

  static std::string tlsErrors() {
    std::string out;
    while (const unsigned long code = ERR_get_error()) {
      char text[256];
      ERR_error_string_n(code, text, sizeof text);
      if (!out.empty()) out.append("; ");
      out.append(text);
    }
    return out.empty() ? "unknown" : out;
  }

  // Plaintext for the server: straight to the socket's queue, or through TLS.
  void queuePlain(std::string_view bytes) {
    if (ssl_ == nullptr) {
      wire_.append(bytes);
      return;
    }
    while (!bytes.empty()) {
      ERR_clear_error();
      const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) {
        failed("TLS write failed: " + tlsErrors());
        return;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    drainTlsOutput();
  }

  void drainTlsOutput() {
    char chunk[16 * 1024];
    for (;;) {
      const int n = BIO_read(sslOut_, chunk, sizeof chunk);
      if (n <= 0) break;
      wire_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Writes what it can of wire_ without waiting.
  void flushSome() {
    while (fd_ >= 0 && !writeFailed_ && wireSent_ < wire_.size()) {
      const ssize_t n =
          ::send(fd_, wire_.data() + wireSent_, wire_.size() - wireSent_, MSG_NOSIGNAL);
      if (n > 0) {
        wireSent_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      writeFailed_ = true;
      fail("write");
    }
    if (wireSent_ == wire_.size()) {
      wire_.clear();
      wireSent_ = 0;
    }
  }

  // Waits (until `deadline`) for the socket to be readable or, with bytes queued, writable; reads
  // what is there (feeding TLS and the session when `feedTls`). False when nothing more can
  // happen: the connection ended, or the deadline passed.
  bool socketIo(Clock::time_point deadline, bool feedTls) {
    if (fd_ < 0 || peerClosed_) return false;
    const short events = static_cast<short>(POLLIN | (wireSent_ < wire_.size() ? POLLOUT : 0));
    if (!pollFor(events, deadline)) return false;
    flushSome();
    char chunk[16 * 1024];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        received(std::string_view(chunk, static_cast<size_t>(n)), feedTls);
        continue;
      }
      if (n == 0 || errno == ECONNRESET) {
        peerClosed_ = true;
        return true;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      fail("read");
      peerClosed_ = true;
      return true;
    }
  }

  void received(std::string_view bytes, bool feedTls) {
    if (ssl_ == nullptr) {
      plainReceived(bytes);
      return;
    }
    BIO_write(sslIn_, bytes.data(), static_cast<int>(bytes.size()));
    if (feedTls) readTls();  // else the handshake reads it
  }

  // Decrypts what the TLS input holds.
  void readTls() {
    char plain[16 * 1024];
    for (;;) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, plain, sizeof plain);
      if (n > 0) {
        plainReceived(std::string_view(plain, static_cast<size_t>(n)));
        continue;
      }
      const int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_ZERO_RETURN)
        tlsClosed_ = true;
      else if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
        failed("TLS read failed: " + tlsErrors());
      break;
    }
    drainTlsOutput();  // post-handshake messages
  }

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

  bool pollFor(short events, Clock::time_point deadline) {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{.fd = fd_, .events = events, .revents = 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) return false;
    }
  }

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
    flushSome();
  }

  // Moves what the session has to send into the socket's queue.
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
      queuePlain(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(n)));
    }
  }

  bool alive() const {
    if (fd_ < 0 || writeFailed_) return false;
    if (peerClosed_ || tlsClosed_) return false;
    if (session_ != nullptr && !protocolError_.empty()) return false;
    return true;
  }

  // Waits a short slice at most, so that runUntil() re-checks a condition that depends on
  // something else than this connection (an upstream's recording).
  void waitAndRead(Clock::time_point deadline) {
    socketIo(std::min(deadline, Clock::now() + kSlice), /*feedTls=*/true);
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

  bool fail(std::string_view what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
    return false;
  }
  bool failed(std::string why) {
    error_ = std::move(why);
    return false;
  }

  static constexpr std::chrono::milliseconds kSlice{5};

  Http2ClientOptions options_;
  int fd_ = -1;
  std::string error_;
  std::string wire_;  // bytes for the socket; wire_[wireSent_…] not written yet
  size_t wireSent_ = 0;
  bool writeFailed_ = false;
  bool peerClosed_ = false;

  SSL_CTX* sslContext_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* sslIn_ = nullptr;   // owned by ssl_
  BIO* sslOut_ = nullptr;  // owned by ssl_
  bool tlsClosed_ = false;
  std::string alpn_;

  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  std::optional<Http2GoAway> goAway_;
  size_t goAwayCount_ = 0;
  std::string protocolError_;
  std::string raw_;
};

}  // namespace meshgate::dp::testing
