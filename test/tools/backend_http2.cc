// meshgate-test-backend over HTTP/2 (h2c with prior knowledge): plain routes and a gRPC echo
// service; see backend_http2.h.
#include "test/tools/backend_http2.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include "base/ascii.h"
#include "dataplane/http2/server_codec.h"

namespace meshgate::testtools {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace h2 = meshgate::dp::http2;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using net::experimental::awaitable_operators::operator||;
using net::experimental::awaitable_operators::operator&&;

// A connection that reads nothing this long, while no reply of the backend's own is waiting
// (x-delay-ms, /delay), is closed with a GOAWAY.
constexpr auto kReadIdleTimeout = 5min;
// A write the client does not take within this long (it stopped reading) ends the connection.
constexpr auto kWriteTimeout = 60s;
constexpr std::uint64_t kMaxDelayMs = 3'600'000;  // as /delay over HTTP/1.1
// Request bytes one stream may make the backend hold (a plain body, gRPC messages not answered
// yet); beyond, the stream is reset.
constexpr std::size_t kMaxHeldRequestBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxGrpcMessageBytes = std::size_t{64} << 20;
constexpr std::size_t kGrpcPrefixBytes = 5;  // compressed flag, 4-byte big-endian length

// HTTP/2 error codes (RFC 9113 section 7).
constexpr std::uint32_t kInternalError = 0x2;
constexpr std::uint32_t kEnhanceYourCalm = 0xb;

// gRPC status codes used here.
constexpr unsigned kGrpcOk = 0;
constexpr unsigned kGrpcInvalidArgument = 3;
constexpr unsigned kGrpcResourceExhausted = 8;
constexpr unsigned kGrpcUnimplemented = 12;
constexpr unsigned kGrpcInternal = 13;
constexpr unsigned kGrpcUnavailable = 14;
constexpr unsigned kGrpcMaxStatus = 16;

enum class GrpcMethod { Unary, Stream, HealthCheck };

std::optional<GrpcMethod> grpcMethodFor(std::string_view path) {
  if (path == "/meshgate.test.Echo/Unary") return GrpcMethod::Unary;
  if (path == "/meshgate.test.Echo/Stream") return GrpcMethod::Stream;
  if (path == "/grpc.health.v1.Health/Check") return GrpcMethod::HealthCheck;
  return std::nullopt;
}

// The value of the first field called `name` (lowercase).
std::optional<std::string_view> fieldValue(const std::vector<h2::Field>& fields,
                                           std::string_view name) {
  for (const h2::Field& field : fields)
    if (field.name == name) return field.value;
  return std::nullopt;
}

std::optional<std::uint64_t> parseNumber(std::string_view text, std::uint64_t max) {
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size() || number > max) return std::nullopt;
  return number;
}

// content-type application/grpc, application/grpc+proto, application/grpc;...
bool isGrpcRequest(const h2::RequestHead& head) {
  constexpr std::string_view kGrpc = "application/grpc";
  const auto type = fieldValue(head.headers, "content-type");
  if (!type || type->size() < kGrpc.size() ||
      !asciiEqualsIgnoreCase(type->substr(0, kGrpc.size()), kGrpc))
    return false;
  return type->size() == kGrpc.size() || (*type)[kGrpc.size()] == '+' ||
         (*type)[kGrpc.size()] == ';';
}

// One gRPC length-prefixed message: not compressed, the payload's length big-endian.
std::string grpcFrame(std::string_view payload) {
  const auto length = static_cast<std::uint32_t>(payload.size());
  std::string frame(kGrpcPrefixBytes, '\0');
  frame[1] = static_cast<char>(length >> 24);
  frame[2] = static_cast<char>(length >> 16);
  frame[3] = static_cast<char>(length >> 8);
  frame[4] = static_cast<char>(length);
  frame.append(payload);
  return frame;
}

enum class FramingError { None, Compressed, TooLarge };

// Moves the complete messages at the front of `bytes` (payloads only) to the end of `messages`;
// an incomplete one stays in `bytes`.
FramingError takeGrpcMessages(std::string& bytes, std::vector<std::string>& messages) {
  std::size_t offset = 0;
  FramingError error = FramingError::None;
  while (bytes.size() - offset >= kGrpcPrefixBytes) {
    const auto* prefix = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
    if (prefix[0] != 0) {
      error = FramingError::Compressed;
      break;
    }
    const std::size_t length = (std::size_t{prefix[1]} << 24) | (std::size_t{prefix[2]} << 16) |
                               (std::size_t{prefix[3]} << 8) | prefix[4];
    if (length > kMaxGrpcMessageBytes) {
      error = FramingError::TooLarge;
      break;
    }
    if (bytes.size() - offset - kGrpcPrefixBytes < length) break;
    messages.emplace_back(bytes, offset + kGrpcPrefixBytes, length);
    offset += kGrpcPrefixBytes + length;
  }
  bytes.erase(0, offset);
  return error;
}

// The HTTP/1.1 request backend_routes.h answers, from an HTTP/2 request: the same method, target
// and fields; a host field from :authority when the client sent none.
Request toRouteRequest(const h2::RequestHead& head, std::string body) {
  Request request;
  request.version(11);
  const http::verb verb = http::string_to_verb(head.method);
  if (verb == http::verb::unknown) {
    request.method_string(head.method);
  } else {
    request.method(verb);
  }
  request.target(head.path);
  if (!fieldValue(head.headers, "host") && !head.authority.empty())
    request.set(http::field::host, head.authority);
  for (const h2::Field& field : head.headers)
    request.insert(field.name, field.value);
  request.body() = std::move(body);
  return request;
}

// A gRPC call in progress.
struct GrpcCall {
  GrpcMethod method = GrpcMethod::Unary;
  // Decided from the request head (forced status, forced failure, unknown method, bad metadata):
  // the call is answered with these trailers only, once the request has ended.
  std::optional<std::pair<unsigned, std::string>> trailersOnly;
  std::vector<h2::Field> responseHeaders;  // content-type, x-backend, ...
  std::string unframed;                    // the start of a message not complete yet
  std::vector<std::string> messages;       // complete messages not answered yet
  bool headersSent = false;
};

// One request stream.
struct StreamState {
  h2::RequestHead head;
  std::string body;              // a plain request's body so far
  std::optional<GrpcCall> grpc;  // set for a gRPC call
  std::optional<Reply> delayed;  // a plain reply waiting for its delay
  std::size_t heldBytes = 0;     // request bytes held (kMaxHeldRequestBytes)
  bool requestEnded = false;
  // x-delay-ms or /delay has elapsed (or there was none).
  bool delayOver = true;
  // The whole response is queued (or the stream reset).
  bool answered = false;
  // The timer of the running delay, if any.
  std::shared_ptr<net::steady_timer> delay;
};

class BackendHttp2Connection final : public std::enable_shared_from_this<BackendHttp2Connection>,
                                     private h2::ServerCodecEvents {
 public:
  BackendHttp2Connection(tcp::socket socket, const net::any_io_executor& executor,
                         BackendState& state)
      : socket_(std::move(socket)),
        executor_(executor),
        state_(state),
        codec_(*this, h2::ServerLimits{}),
        readTimer_(executor),
        writeTimer_(executor),
        writerWake_(executor) {}

  net::awaitable<void> run(std::string alreadyRead) {
    co_await (readLoop(std::move(alreadyRead)) && writeLoop());
    // Delays still running end now; their coroutines find the connection ended.
    for (auto& [id, stream] : streams_)
      if (stream.delay) stream.delay->cancel();
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

 private:
  // ServerCodecEvents (from inside codec_.receive(), or nextOutput() for the last two).
  void onRequestHead(int32_t id, h2::RequestHead head) override {
    StreamState& stream = streams_[id];
    stream.head = std::move(head);
    if (isGrpcRequest(stream.head)) startGrpcCall(id, stream);
  }

  void onRequestData(int32_t id, std::span<const char> data) override {
    // Copied here at once: the client may send more straight away.
    codec_.consumed(id, data.size());
    StreamState* stream = find(id);
    // (A call answered trailers-only needs none of its messages.)
    if (stream == nullptr || stream->answered || (stream->grpc && stream->grpc->trailersOnly))
      return;
    stream->heldBytes += data.size();
    if (stream->heldBytes > kMaxHeldRequestBytes) {
      stream->answered = true;
      codec_.resetStream(id, kEnhanceYourCalm);
      return;
    }
    if (stream->grpc) {
      stream->grpc->unframed.append(data.data(), data.size());
      progressGrpcCall(id, *stream);
    } else {
      stream->body.append(data.data(), data.size());
    }
  }

  void onRequestEnd(int32_t id, std::vector<h2::Field>) override {
    StreamState* stream = find(id);
    if (stream == nullptr) return;
    stream->requestEnded = true;
    if (stream->answered) return;
    if (stream->grpc) {
      progressGrpcCall(id, *stream);
      return;
    }
    try {
      Reply reply = route(toRouteRequest(stream->head, std::move(stream->body)), state_);
      if (reply.delay.count() > 0) {
        stream->delayed = std::move(reply);
        startDelay(id, *stream, stream->delayed->delay);
      } else {
        sendPlainReply(id, *stream, reply);
      }
    } catch (const std::exception&) {
      // Out of memory, or a field Beast refused: this stream fails, the connection goes on.
      stream->answered = true;
      codec_.resetStream(id, kInternalError);
    }
  }

  void onStreamClosed(int32_t id, uint32_t) override {
    const auto it = streams_.find(id);
    if (it == streams_.end()) return;
    if (it->second.delay) it->second.delay->cancel();
    streams_.erase(it);
  }

  void onStreamWritable(int32_t) override {}  // responses are queued whole

  StreamState* find(int32_t id) {
    const auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : &it->second;
  }

  // Plain requests.

  void sendPlainReply(int32_t id, StreamState& stream, const Reply& reply) {
    std::vector<h2::Field> fields;
    for (const auto& field : reply.response)
      fields.push_back({asciiLower(std::string(field.name_string())), std::string(field.value())});
    fields.push_back({"x-backend-protocol", "h2"});
    // (Connection-specific fields — connection, transfer-encoding — are dropped by the codec;
    // /chunked's body goes out as DATA frames like any other.)
    const std::string& body = reply.response.body();
    if (codec_.submitResponse(id, reply.response.result_int(), fields, body.empty()) &&
        !body.empty())
      codec_.appendBody(id, body, true);
    stream.answered = true;
    // /close: the HTTP/2 way to close a connection after a response.
    if (reply.close) codec_.goAway();
  }

  // gRPC calls.

  void startGrpcCall(int32_t id, StreamState& stream) {
    ++state_.requests;
    const std::vector<h2::Field>& metadata = stream.head.headers;
    GrpcCall& call = stream.grpc.emplace();
    call.responseHeaders = {{"content-type", "application/grpc"},
                            {"x-backend", state_.name},
                            {"x-backend-protocol", "h2"}};
    if (auto timeout = fieldValue(metadata, "grpc-timeout"))
      call.responseHeaders.push_back({"x-grpc-timeout-seen", std::string(*timeout)});

    std::chrono::milliseconds delay{0};
    if (auto value = fieldValue(metadata, "x-delay-ms")) {
      if (auto ms = parseNumber(*value, kMaxDelayMs)) {
        delay = std::chrono::milliseconds(*ms);
      } else {
        call.trailersOnly = {kGrpcInvalidArgument, "bad x-delay-ms"};
      }
    }
    if (auto value = fieldValue(metadata, "x-grpc-status"); value && !call.trailersOnly) {
      if (auto status = parseNumber(*value, kGrpcMaxStatus)) {
        call.trailersOnly = {static_cast<unsigned>(*status), "forced"};
      } else {
        call.trailersOnly = {kGrpcInvalidArgument, "bad x-grpc-status"};
      }
    }
    if (auto value = fieldValue(metadata, "x-fail-times"); value && !call.trailersOnly) {
      if (auto times = parseNumber(*value, UINT32_MAX)) {
        const std::string key(fieldValue(metadata, "x-fail-key").value_or(""));
        std::uint64_t calls = 0;
        {
          std::lock_guard lock(state_.failKeysMutex);
          calls = ++state_.callsByFailKey[key];
        }
        if (calls <= *times)
          call.trailersOnly = {kGrpcUnavailable, "forced failure " + std::to_string(calls) +
                                                     " of " + std::to_string(*times)};
      } else {
        call.trailersOnly = {kGrpcInvalidArgument, "bad x-fail-times"};
      }
    }
    if (auto method = grpcMethodFor(stream.head.path)) {
      call.method = *method;
    } else if (!call.trailersOnly) {
      call.trailersOnly = {kGrpcUnimplemented, "unknown method " + stream.head.path};
    }
    if (delay.count() > 0) startDelay(id, stream, delay);
  }

  // Answers what can be answered now: the call's messages once its delay is over, its end once
  // the request has ended.
  void progressGrpcCall(int32_t id, StreamState& stream) {
    GrpcCall& call = *stream.grpc;
    if (stream.answered || !stream.delayOver) return;
    if (call.trailersOnly) {
      if (stream.requestEnded)
        finishGrpcCall(id, stream, call.trailersOnly->first, call.trailersOnly->second);
      return;
    }
    switch (takeGrpcMessages(call.unframed, call.messages)) {
      case FramingError::None:
        break;
      case FramingError::Compressed:
        finishGrpcCall(id, stream, kGrpcUnimplemented, "compressed messages are not supported");
        return;
      case FramingError::TooLarge:
        finishGrpcCall(id, stream, kGrpcResourceExhausted, "message over 64 MiB");
        return;
    }
    if (call.method == GrpcMethod::Stream) {
      if (!call.headersSent) sendGrpcHeaders(id, call);
      for (const std::string& message : call.messages) {
        const std::string frame = grpcFrame(message);
        codec_.appendBody(id, frame, false);
      }
      call.messages.clear();
      stream.heldBytes = call.unframed.size();
      if (!stream.requestEnded) return;
      if (call.unframed.empty()) {
        finishGrpcCall(id, stream, kGrpcOk, "");
      } else {
        finishGrpcCall(id, stream, kGrpcInternal, "the request ended inside a message");
      }
      return;
    }
    // Unary: one request message, one response message.
    if (!stream.requestEnded) return;
    if (call.messages.size() != 1 || !call.unframed.empty()) {
      finishGrpcCall(id, stream, kGrpcInternal,
                     "want exactly one request message, got " +
                         std::to_string(call.messages.size()) +
                         (call.unframed.empty() ? "" : " and a partial one"));
      return;
    }
    sendGrpcHeaders(id, call);
    std::string payload = std::move(call.messages.front());
    if (call.method == GrpcMethod::HealthCheck) {
      // HealthCheckResponse{status (field 1, varint): SERVING = 1, NOT_SERVING = 2}.
      payload = state_.grpcServing.load() ? std::string("\x08\x01", 2) : std::string("\x08\x02", 2);
    }
    const std::string frame = grpcFrame(payload);
    codec_.appendBody(id, frame, false);
    call.messages.clear();
    finishGrpcCall(id, stream, kGrpcOk, "");
  }

  void sendGrpcHeaders(int32_t id, GrpcCall& call) {
    codec_.submitResponse(id, 200, call.responseHeaders, false);
    call.headersSent = true;
  }

  // Ends the call with grpc-status `status`: in trailers after the response headers, or, before
  // them, as a trailers-only response (one HEADERS frame with END_STREAM).
  void finishGrpcCall(int32_t id, StreamState& stream, unsigned status, const std::string& why) {
    GrpcCall& call = *stream.grpc;
    std::vector<h2::Field> trailers = {{"grpc-status", std::to_string(status)}};
    if (!why.empty()) trailers.push_back({"grpc-message", why});
    if (call.headersSent) {
      codec_.submitTrailers(id, trailers);
    } else {
      std::vector<h2::Field> fields = call.responseHeaders;
      fields.insert(fields.end(), trailers.begin(), trailers.end());
      codec_.submitResponse(id, 200, fields, true);
    }
    stream.answered = true;
  }

  // Delays (x-delay-ms, /delay).

  void startDelay(int32_t id, StreamState& stream, std::chrono::milliseconds delay) {
    stream.delayOver = false;
    stream.delay = std::make_shared<net::steady_timer>(executor_, delay);
    net::co_spawn(executor_, waitDelay(shared_from_this(), id, stream.delay), net::detached);
  }

  // Static, with `self`: the coroutine keeps the connection (and its codec) alive while the
  // timer runs; the connection's end or the stream's cancels the timer.
  static net::awaitable<void> waitDelay(std::shared_ptr<BackendHttp2Connection> self, int32_t id,
                                        std::shared_ptr<net::steady_timer> timer) {
    co_await timer->async_wait(net::as_tuple(net::use_awaitable));
    StreamState* stream = self->find(id);
    if (self->ended_ || stream == nullptr || stream->delay != timer) co_return;
    stream->delay.reset();
    stream->delayOver = true;
    if (stream->delayed) {
      const Reply reply = std::move(*stream->delayed);
      stream->delayed.reset();
      self->sendPlainReply(id, *stream, reply);
    } else if (stream->grpc) {
      self->progressGrpcCall(id, *stream);
    }
    self->wakeWriter();
  }

  bool waitingOnADelay() const {
    return std::any_of(streams_.begin(), streams_.end(),
                       [](const auto& entry) { return entry.second.delay != nullptr; });
  }

  // I/O.

  net::awaitable<void> readLoop(std::string alreadyRead) {
    if (!codec_.receive({alreadyRead.data(), alreadyRead.size()})) ended_ = true;
    std::array<char, 16 * 1024> buffer;
    while (!ended_ && codec_.wantsRead()) {
      wakeWriter();
      readTimer_.expires_after(kReadIdleTimeout);
      auto result = co_await (
          socket_.async_read_some(net::buffer(buffer), net::as_tuple(net::use_awaitable)) ||
          readTimer_.async_wait(net::as_tuple(net::use_awaitable)));
      if (ended_) break;
      if (result.index() == 1) {
        if (waitingOnADelay()) continue;  // the backend is the one keeping the client waiting
        codec_.goAway();
        break;
      }
      const auto [ec, n] = std::get<0>(result);
      if (ec || n == 0) break;  // the client closed or reset the connection
      // False on a protocol error: the writer sends the GOAWAY, then the connection closes.
      if (!codec_.receive({buffer.data(), n})) break;
    }
    readingDone_ = true;
    wakeWriter();
  }

  net::awaitable<void> writeLoop() {
    std::string out;
    for (;;) {
      writePending_ = false;
      for (std::span<const char> next = codec_.nextOutput(); !next.empty();
           next = codec_.nextOutput()) {
        out.assign(next.data(), next.size());
        writeTimer_.expires_after(kWriteTimeout);
        auto result = co_await (
            net::async_write(socket_, net::buffer(out), net::as_tuple(net::use_awaitable)) ||
            writeTimer_.async_wait(net::as_tuple(net::use_awaitable)));
        if (result.index() == 1 || std::get<0>(std::get<0>(result))) {
          endConnection();
          co_return;
        }
      }
      if (ended_ || readingDone_ || (!codec_.wantsRead() && !codec_.wantsWrite())) break;
      if (!writePending_) {
        // Woken by wakeWriter(); the reader's idle timeout bounds this wait.
        writerWake_.expires_at(net::steady_timer::time_point::max());
        co_await writerWake_.async_wait(net::as_tuple(net::use_awaitable));
      }
    }
    endConnection();
  }

  void wakeWriter() {
    writePending_ = true;
    writerWake_.cancel();
  }

  void endConnection() {
    ended_ = true;
    boost::system::error_code ec;
    socket_.cancel(ec);
    writerWake_.cancel();
  }

  tcp::socket socket_;
  net::any_io_executor executor_;
  BackendState& state_;
  h2::ServerCodec codec_;
  std::unordered_map<int32_t, StreamState> streams_;
  net::steady_timer readTimer_;
  net::steady_timer writeTimer_;
  net::steady_timer writerWake_;  // cancelled to wake the writer
  bool writePending_ = false;
  bool readingDone_ = false;
  bool ended_ = false;
};

}  // namespace

bool isPartialHttp2Preface(std::string_view firstBytes) {
  return firstBytes.size() < h2::kClientPreface.size() &&
         h2::kClientPreface.starts_with(firstBytes);
}

bool startsWithHttp2Preface(std::string_view firstBytes) {
  return firstBytes.starts_with(h2::kClientPreface);
}

net::awaitable<void> serveHttp2(tcp::socket socket, std::string alreadyRead, BackendState& state) {
  const net::any_io_executor executor = co_await net::this_coro::executor;
  auto connection = std::make_shared<BackendHttp2Connection>(std::move(socket), executor, state);
  co_await connection->run(std::move(alreadyRead));
}

}  // namespace meshgate::testtools
