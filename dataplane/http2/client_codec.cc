// ClientCodec: the client side of one HTTP/2 connection to an upstream, an nghttp2 client session.
#include "dataplane/http2/client_codec.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <unordered_map>
#include <utility>

#include "dataplane/http2/fields.h"
#include "dataplane/http2/stream_session.h"

namespace meshgate::dp::http2 {
namespace {

// What nghttp2 assumes before the server's SETTINGS, and what an unlimited (or absurd) server
// limit is taken as.
constexpr uint32_t kDefaultConcurrentStreams = 100;
constexpr uint32_t kUnlimitedConcurrentStreams = uint32_t{1} << 31;

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return detail::lowercase(x) == detail::lowercase(y);
         });
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// What a request or its trailers may carry beyond the shared rules: no host (it travels as
// :authority), te only as "trailers"; values trimmed (HTTP/2 servers refuse leading or trailing
// whitespace, RFC 9113 8.2.1) and without forbidden characters.
bool admitRequestField(Field& field) {
  field.value = std::string(trimmed(field.value));
  if (field.name == "host") return false;
  if (field.name == "te") {
    if (!equalsIgnoringCase(field.value, "trailers")) return false;
    field.value = "trailers";
  }
  return nghttp2_check_header_value_rfc9113(detail::bytesOf(field.value), field.value.size());
}

std::vector<Field> outboundFields(const std::vector<Field>& fields) {
  return detail::outboundFields(fields, &admitRequestField);
}

// The request's whole header block: pseudo-headers first (CONNECT carries only :method and
// :authority), then the regular fields. The authority falls back to the host field.
std::vector<Field> requestFields(const RequestHead& head) {
  std::string authority = head.authority;
  bool hasContentLength = false;
  for (const Field& field : head.headers) {
    if (authority.empty() && equalsIgnoringCase(field.name, "host")) authority = field.value;
    if (equalsIgnoringCase(field.name, "content-length")) hasContentLength = true;
  }
  std::vector<Field> fields;
  fields.reserve(head.headers.size() + 5);
  fields.push_back(Field{":method", head.method});
  if (head.method == "CONNECT") {
    fields.push_back(Field{":authority", std::move(authority)});
  } else {
    fields.push_back(Field{":scheme", head.scheme.empty() ? "http" : head.scheme});
    if (!authority.empty()) fields.push_back(Field{":authority", std::move(authority)});
    fields.push_back(Field{":path", head.path.empty() ? "/" : head.path});
  }
  std::vector<Field> regular = outboundFields(head.headers);
  if (!hasContentLength && head.contentLength)
    regular.push_back(Field{"content-length", std::to_string(*head.contentLength)});
  for (Field& field : regular)
    fields.push_back(std::move(field));
  return fields;
}

std::optional<uint64_t> parseNumber(std::string_view text) {
  uint64_t number = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (status != std::errc() || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return number;
}

// The request body and the response body's flow control live in StreamCore.
struct ClientStream : detail::StreamCore {
  // The response, collected from its header blocks.
  ResponseHead head;
  std::vector<Field> trailers;
  detail::HeaderListSize headerList;  // of the header block being received
  bool headerListRejected = false;
  bool headDelivered = false;

  bool deliversEvents() const { return !resetSubmitted && !headerListRejected; }
};

}  // namespace

struct ClientCodec::Impl final : detail::StreamSession<ClientStream, ClientCodecEvents> {
  using Stream = ClientStream;

  Impl(ClientCodecEvents& handler, const ClientLimits& codecLimits)
      : StreamSession(handler), limits(codecLimits) {}

  void closeStream(int32_t id, uint32_t errorCode) {
    Stream* stream = find(id);
    if (stream == nullptr) return;
    releaseConnectionWindow(*stream);
    streams.erase(id);
    reportClosed(id, errorCode);
  }

  void deliverHead(int32_t id, Stream& stream, bool endStream) {
    stream.headDelivered = true;
    stream.head.endStream = endStream;
    events.onResponseHead(id, std::move(stream.head));
    if (!endStream) return;
    // The handler may have reset the stream from onResponseHead.
    const Stream* after = find(id);
    if (after != nullptr && after->deliversEvents()) events.onResponseEnd(id, {});
  }

  // nghttp2 callbacks; `user` is the Impl.

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* stream = self.find(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    // Each block starts afresh: a final head after 1xx heads, or the trailers after the head.
    stream->headerList.reset();
    if (stream->headDelivered) {
      stream->trailers.clear();
    } else {
      stream->head = ResponseHead{};
    }
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* nameBytes,
                      size_t nameLength, const uint8_t* valueBytes, size_t valueLength, uint8_t,
                      void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* stream = self.find(frame->hd.stream_id);
    if (stream == nullptr || stream->headerListRejected) return 0;
    if (!stream->headerList.add(nameLength, valueLength, self.limits.maxHeaderListBytes)) {
      // nghttp2 resets the stream and decodes the rest of the block without reporting it.
      stream->headerListRejected = true;
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    const std::string_view name(reinterpret_cast<const char*>(nameBytes), nameLength);
    const std::string_view value(reinterpret_cast<const char*>(valueBytes), valueLength);
    if (stream->headDelivered) {
      stream->trailers.push_back(Field{std::string(name), std::string(value)});
      return 0;
    }
    ResponseHead& head = stream->head;
    if (!name.empty() && name.front() == ':') {
      if (name == ":status") head.status = static_cast<unsigned>(parseNumber(value).value_or(0));
      return 0;
    }
    if (name == "content-length") head.contentLength = parseNumber(value);
    head.headers.push_back(Field{std::string(name), std::string(value)});
    return 0;
  }

  static int onFrameReceived(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<Impl*>(user);
    const int32_t id = frame->hd.stream_id;
    const bool endStream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        Stream* stream = self.find(id);
        if (stream == nullptr || !stream->deliversEvents()) return 0;
        if (!stream->headDelivered) {
          // An interim (1xx) head is dropped; the next block is collected afresh.
          if (stream->head.status >= 200) self.deliverHead(id, *stream, endStream);
          return 0;
        }
        if (endStream) {
          std::vector<Field> trailers = std::move(stream->trailers);
          stream->trailers.clear();
          self.events.onResponseEnd(id, std::move(trailers));
        }
        return 0;
      }
      case NGHTTP2_DATA: {
        const Stream* stream = self.find(id);
        if (endStream && stream != nullptr && stream->headDelivered && stream->deliversEvents())
          self.events.onResponseEnd(id, {});
        return 0;
      }
      case NGHTTP2_GOAWAY:
        self.goAwayReceived = true;
        self.events.onGoAway(frame->goaway.last_stream_id, frame->goaway.error_code);
        return 0;
      default:
        return 0;
    }
  }

  static int onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                         size_t length, void* user) {
    auto& self = *static_cast<Impl*>(user);
    Stream* stream = self.find(id);
    if (stream == nullptr || !stream->headDelivered || !stream->deliversEvents()) {
      // Nobody will forward these bytes: give their window back now.
      nghttp2_session_consume(session, id, length);
      return 0;
    }
    stream->unconsumedBytes += length;
    self.events.onResponseData(id,
                               std::span<const char>(reinterpret_cast<const char*>(data), length));
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t errorCode, void* user) {
    static_cast<Impl*>(user)->closeStream(id, errorCode);
    return 0;
  }

  static int onFrameSent(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (frame->hd.type != NGHTTP2_GOAWAY || frame->goaway.error_code == NGHTTP2_NO_ERROR) return 0;
    // A connection error nghttp2 found and answered by itself; its GOAWAY says more than
    // receive() could.
    if (!self.failed || self.errorIsProvisional) {
      self.failed = true;
      self.errorIsProvisional = false;
      self.error = describeGoAway(frame->goaway);
    }
    return 0;
  }

  // nghttp2's account of what it found wrong in the input being received, stream or connection
  // level; the connection error's, if one ends the session, becomes error().
  static int onLibraryError(nghttp2_session*, int, const char* message, size_t length, void* user) {
    static_cast<Impl*>(user)->lastLibraryError.assign(message, length);
    return 0;
  }

  // nghttp2 answers most connection errors by queueing a GOAWAY and ignoring the rest of the
  // input, while nghttp2_session_mem_recv still reports success. It then allows no new request
  // although no GOAWAY was received and stream ids are left: that is how receive() tells.
  bool sessionTerminated() const {
    return !goAwayReceived && nghttp2_session_check_request_allowed(session) == 0 &&
           nghttp2_session_get_next_stream_id(session) <= uint32_t{INT32_MAX};
  }

  ClientLimits limits;
  bool goAwayReceived = false;
  bool errorIsProvisional = false;  // the GOAWAY nghttp2 sends will say more
  std::string lastLibraryError;
};

ClientCodec::ClientCodec(ClientCodecEvents& events, const ClientLimits& limits)
    : impl_(std::make_unique<Impl>(events, limits)) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Impl::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Impl::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Impl::onFrameReceived);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Impl::onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Impl::onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Impl::onFrameSent);
  nghttp2_session_callbacks_set_error_callback2(callbacks, &Impl::onLibraryError);

  nghttp2_option* option = detail::SessionCore::newSessionOptions(
      limits.maxContinuationFrames, limits.maxQueuedAcks, limits.maxSettingsEntries);

  nghttp2_session_client_new2(&impl_->session, callbacks, impl_.get(), option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.initialWindowSize},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.maxHeaderListBytes},
  };
  impl_->submitSettings(settings, limits.connectionWindowSize);
}

ClientCodec::~ClientCodec() = default;

bool ClientCodec::receive(std::span<const char> bytes) {
  Impl& impl = *impl_;
  if (impl.failed) return false;
  impl.lastLibraryError.clear();
  const ssize_t result = nghttp2_session_mem_recv(
      impl.session, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (result < 0) {
    impl.failReceive(result, impl.limits.maxContinuationFrames, impl.limits.maxQueuedAcks);
    return false;
  }
  if (!impl.failed && impl.sessionTerminated()) {
    impl.failed = true;
    impl.error = "connection error: " + (impl.lastLibraryError.empty()
                                             ? std::string("malformed or forbidden frames")
                                             : impl.lastLibraryError);
    // The GOAWAY nghttp2 queued names the code and reason; nextOutput() adopts them.
    impl.errorIsProvisional = true;
  }
  return !impl.failed;
}

std::span<const char> ClientCodec::nextOutput() {
  return impl_->nextOutput();
}

bool ClientCodec::wantsWrite() const {
  return impl_->wantsWrite();
}

bool ClientCodec::wantsRead() const {
  return impl_->wantsRead();
}

int32_t ClientCodec::submitRequest(const RequestHead& head, bool endStream) {
  Impl& impl = *impl_;
  if (!canOpenStream()) return -1;
  const std::vector<Field> fields = requestFields(head);
  const std::vector<nghttp2_nv> list = detail::nameValues(fields);
  const nghttp2_data_provider provider = impl.bodyProvider();
  const int32_t id = nghttp2_submit_request(impl.session, nullptr, list.data(), list.size(),
                                            endStream ? nullptr : &provider, nullptr);
  if (id < 0) return -1;
  Impl::Stream& stream = impl.streams[id];
  stream.bodyProvided = !endStream;
  if (endStream) stream.body.end();
  return id;
}

void ClientCodec::appendBody(int32_t stream, std::span<const char> data, bool end) {
  impl_->appendBody(stream, data, end);
}

void ClientCodec::submitTrailers(int32_t stream, const std::vector<Field>& trailers) {
  impl_->submitTrailers(stream, outboundFields(trailers));
}

size_t ClientCodec::queuedBody(int32_t stream) const {
  return impl_->queuedBody(stream);
}

void ClientCodec::resetStream(int32_t stream, uint32_t errorCode) {
  impl_->resetStream(stream, errorCode);
}

void ClientCodec::consumed(int32_t stream, size_t bytes) {
  impl_->consumed(stream, bytes);
}

bool ClientCodec::canOpenStream() const {
  const Impl& impl = *impl_;
  if (impl.failed || impl.goAwayReceived) return false;
  // False once a GOAWAY was received, nghttp2 is ending the session, or stream ids ran out.
  if (nghttp2_session_check_request_allowed(impl.session) == 0) return false;
  uint32_t limit =
      nghttp2_session_get_remote_settings(impl.session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  if (limit >= kUnlimitedConcurrentStreams) limit = kDefaultConcurrentStreams;
  return openStreams() < limit;
}

size_t ClientCodec::openStreams() const {
  return impl_->streams.size();
}

bool ClientCodec::goAwayReceived() const {
  return impl_->goAwayReceived;
}

std::string_view ClientCodec::error() const {
  return impl_->error;
}

}  // namespace meshgate::dp::http2
