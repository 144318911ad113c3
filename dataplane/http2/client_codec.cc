// ClientCodec: the client side of one HTTP/2 connection to an upstream, an nghttp2 client session.
#include "dataplane/http2/client_codec.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <unordered_map>
#include <utility>

namespace meshgate::dp::http2 {
namespace {

// nextOutput() stops collecting frames once this much is buffered.
constexpr size_t kOutputChunkBytes = 64 * 1024;
// Per field of a header list, on top of its name and value (RFC 9113 6.5.2).
constexpr size_t kHeaderFieldOverhead = 32;
// What nghttp2 assumes before the server's SETTINGS, and what an unlimited (or absurd) server
// limit is taken as.
constexpr uint32_t kDefaultConcurrentStreams = 100;
constexpr uint32_t kUnlimitedConcurrentStreams = uint32_t{1} << 31;

char lowercase(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lowercase(x) == lowercase(y);
         });
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// Fields a request must not carry in HTTP/2 (RFC 9113 8.2.2); host travels as :authority.
bool isConnectionSpecific(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "host";
}

const uint8_t* bytesOf(const std::string& text) {
  return reinterpret_cast<const uint8_t*>(text.data());
}

bool isValidField(const Field& field) {
  return !field.name.empty() && nghttp2_check_header_name(bytesOf(field.name), field.name.size()) &&
         nghttp2_check_header_value_rfc9113(bytesOf(field.value), field.value.size());
}

// The regular fields of a request or trailers as they may go out: names lowercased, values
// trimmed; pseudo-headers, connection-specific fields, te other than "trailers" and fields with
// forbidden characters dropped.
std::vector<Field> outboundFields(const std::vector<Field>& fields) {
  std::vector<Field> cleaned;
  cleaned.reserve(fields.size());
  for (const Field& field : fields) {
    // HTTP/2 servers refuse values with leading or trailing whitespace (RFC 9113 8.2.1).
    Field out{field.name, std::string(trimmed(field.value))};
    for (char& c : out.name)
      c = lowercase(c);
    if (out.name.empty() || out.name.front() == ':' || isConnectionSpecific(out.name)) continue;
    if (out.name == "te") {
      if (!equalsIgnoringCase(out.value, "trailers")) continue;
      out.value = "trailers";
    }
    if (!isValidField(out)) continue;
    cleaned.push_back(std::move(out));
  }
  return cleaned;
}

nghttp2_nv nameValue(const std::string& name, const std::string& value) {
  return nghttp2_nv{const_cast<uint8_t*>(bytesOf(name)), const_cast<uint8_t*>(bytesOf(value)),
                    name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

std::vector<nghttp2_nv> nameValues(const std::vector<Field>& fields) {
  std::vector<nghttp2_nv> list;
  list.reserve(fields.size());
  for (const Field& field : fields)
    list.push_back(nameValue(field.name, field.value));
  return list;
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

std::string errorCodeName(uint32_t code) {
  switch (code) {
    case NGHTTP2_NO_ERROR:
      return "NO_ERROR";
    case NGHTTP2_PROTOCOL_ERROR:
      return "PROTOCOL_ERROR";
    case NGHTTP2_INTERNAL_ERROR:
      return "INTERNAL_ERROR";
    case NGHTTP2_FLOW_CONTROL_ERROR:
      return "FLOW_CONTROL_ERROR";
    case NGHTTP2_SETTINGS_TIMEOUT:
      return "SETTINGS_TIMEOUT";
    case NGHTTP2_STREAM_CLOSED:
      return "STREAM_CLOSED";
    case NGHTTP2_FRAME_SIZE_ERROR:
      return "FRAME_SIZE_ERROR";
    case NGHTTP2_REFUSED_STREAM:
      return "REFUSED_STREAM";
    case NGHTTP2_CANCEL:
      return "CANCEL";
    case NGHTTP2_COMPRESSION_ERROR:
      return "COMPRESSION_ERROR";
    case NGHTTP2_CONNECT_ERROR:
      return "CONNECT_ERROR";
    case NGHTTP2_ENHANCE_YOUR_CALM:
      return "ENHANCE_YOUR_CALM";
    case NGHTTP2_INADEQUATE_SECURITY:
      return "INADEQUATE_SECURITY";
    case NGHTTP2_HTTP_1_1_REQUIRED:
      return "HTTP_1_1_REQUIRED";
    default:
      return "error " + std::to_string(code);
  }
}

std::optional<uint64_t> parseNumber(std::string_view text) {
  uint64_t number = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (status != std::errc() || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return number;
}

}  // namespace

struct ClientCodec::Impl {
  struct Stream {
    // The request body, pulled by nghttp2 through readBody.
    bool bodyProvided = false;
    std::string body;  // queued body; bytes before bodyOffset are framed
    size_t bodyOffset = 0;
    bool bodyEnded = false;
    std::optional<std::vector<Field>> requestTrailers;
    bool resetSubmitted = false;  // resetStream() was called: no more response events
    // The response, collected from its header blocks.
    ResponseHead head;
    std::vector<Field> trailers;
    size_t headerBlockBytes = 0;  // decoded size of the header block being received
    bool headerListRejected = false;
    bool headDelivered = false;
    uint64_t unconsumedBytes = 0;  // response body delivered and not yet consumed()

    size_t queued() const { return body.size() - bodyOffset; }
    bool deliversEvents() const { return !resetSubmitted && !headerListRejected; }
  };

  Impl(ClientCodecEvents& handler, const ClientLimits& codecLimits)
      : events(handler), limits(codecLimits) {}

  ~Impl() {
    if (session != nullptr) nghttp2_session_del(session);
  }

  Stream* find(int32_t id) {
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : &it->second;
  }
  const Stream* find(int32_t id) const {
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : &it->second;
  }

  // Ends the connection: GOAWAY `code` (after what is already queued), receive() fails from now.
  void fail(uint32_t code, std::string why) {
    if (!failed) {
      failed = true;
      if (error.empty()) error = std::move(why);
    }
    nghttp2_session_terminate_session(session, code);
  }

  void resumeBody(int32_t id, const Stream& stream) {
    if (stream.bodyProvided) nghttp2_session_resume_data(session, id);
  }

  void closeStream(int32_t id, uint32_t errorCode) {
    Stream* stream = find(id);
    if (stream == nullptr) return;
    // Body bytes the handler will now never consume still hold the connection's window.
    if (stream->unconsumedBytes > 0)
      nghttp2_session_consume_connection(session, stream->unconsumedBytes);
    streams.erase(id);
    if (sending) {
      closedDuringSend.emplace_back(id, errorCode);
    } else {
      events.onStreamClosed(id, errorCode);
    }
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
    stream->headerBlockBytes = 0;
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
    stream->headerBlockBytes += nameLength + valueLength + kHeaderFieldOverhead;
    if (stream->headerBlockBytes > self.limits.maxHeaderListBytes) {
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
      const std::string debug(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                              frame->goaway.opaque_data_len);
      self.error = "connection error: GOAWAY " + errorCodeName(frame->goaway.error_code) +
                   (debug.empty() ? std::string() : " (" + debug + ")");
    }
    return 0;
  }

  // nghttp2's account of what it found wrong in the input being received, stream or connection
  // level; the connection error's, if one ends the session, becomes error().
  static int onLibraryError(nghttp2_session*, int, const char* message, size_t length, void* user) {
    static_cast<Impl*>(user)->lastLibraryError.assign(message, length);
    return 0;
  }

  static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buffer, size_t length,
                          uint32_t* dataFlags, nghttp2_data_source*, void* user) {
    auto& self = *static_cast<Impl*>(user);
    Stream* stream = self.find(id);
    if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const size_t before = stream->queued();
    const size_t taken = std::min(length, before);
    if (taken == 0 && !stream->bodyEnded) return NGHTTP2_ERR_DEFERRED;
    std::memcpy(buffer, stream->body.data() + stream->bodyOffset, taken);
    stream->bodyOffset += taken;
    if (stream->bodyOffset == stream->body.size()) {
      stream->body.clear();
      stream->bodyOffset = 0;
    } else if (stream->bodyOffset >= stream->body.size() / 2) {
      stream->body.erase(0, stream->bodyOffset);
      stream->bodyOffset = 0;
    }
    if (before >= ServerCodec::kLowWaterBytes && stream->queued() < ServerCodec::kLowWaterBytes)
      self.writableDuringSend.push_back(id);
    if (stream->bodyEnded && stream->queued() == 0) {
      *dataFlags |= NGHTTP2_DATA_FLAG_EOF;
      if (stream->requestTrailers) {
        *dataFlags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        const std::vector<nghttp2_nv> list = nameValues(*stream->requestTrailers);
        if (nghttp2_submit_trailer(session, id, list.data(), list.size()) != 0)
          return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      }
    }
    return static_cast<ssize_t>(taken);
  }

  // Events that nghttp2 raised inside nghttp2_session_mem_send, handed out once it returned.
  void dispatchAfterSend() {
    std::vector<std::pair<int32_t, uint32_t>> closed;
    closed.swap(closedDuringSend);
    std::vector<int32_t> writable;
    writable.swap(writableDuringSend);
    for (const auto& [id, errorCode] : closed)
      events.onStreamClosed(id, errorCode);
    for (const int32_t id : writable) {
      const Stream* stream = find(id);
      if (stream != nullptr && stream->queued() < ServerCodec::kLowWaterBytes)
        events.onStreamWritable(id);
    }
  }

  // nghttp2 answers most connection errors by queueing a GOAWAY and ignoring the rest of the
  // input, while nghttp2_session_mem_recv still reports success. It then allows no new request
  // although no GOAWAY was received and stream ids are left: that is how receive() tells.
  bool sessionTerminated() const {
    return !goAwayReceived && nghttp2_session_check_request_allowed(session) == 0 &&
           nghttp2_session_get_next_stream_id(session) <= uint32_t{INT32_MAX};
  }

  ClientCodecEvents& events;
  ClientLimits limits;
  nghttp2_session* session = nullptr;
  std::unordered_map<int32_t, Stream> streams;  // submitted and not yet closed
  bool goAwayReceived = false;
  bool failed = false;
  std::string error;
  bool errorIsProvisional = false;  // the GOAWAY nghttp2 sends will say more
  std::string lastLibraryError;
  std::string output;
  bool sending = false;  // inside nghttp2_session_mem_send
  std::vector<std::pair<int32_t, uint32_t>> closedDuringSend;
  std::vector<int32_t> writableDuringSend;
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

  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Window updates follow consumed(), not receipt.
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_continuations(option, limits.maxContinuationFrames);
  nghttp2_option_set_max_outbound_ack(option, limits.maxQueuedAcks);
  nghttp2_option_set_max_settings(option, limits.maxSettingsEntries);

  nghttp2_session_client_new2(&impl_->session, callbacks, impl_.get(), option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.initialWindowSize},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.maxHeaderListBytes},
  };
  nghttp2_submit_settings(impl_->session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(impl_->session, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(limits.connectionWindowSize));
}

ClientCodec::~ClientCodec() = default;

bool ClientCodec::receive(std::span<const char> bytes) {
  Impl& impl = *impl_;
  if (impl.failed) return false;
  impl.lastLibraryError.clear();
  const ssize_t result = nghttp2_session_mem_recv(
      impl.session, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (result < 0) {
    if (result == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
      impl.fail(NGHTTP2_ENHANCE_YOUR_CALM, "CONTINUATION flood: a header block over " +
                                               std::to_string(impl.limits.maxContinuationFrames) +
                                               " CONTINUATION frames");
    } else if (result == NGHTTP2_ERR_FLOODED) {
      impl.fail(NGHTTP2_ENHANCE_YOUR_CALM, "SETTINGS/PING flood: over " +
                                               std::to_string(impl.limits.maxQueuedAcks) +
                                               " acknowledgements not yet written");
    } else {
      const uint32_t code = result == NGHTTP2_ERR_NOMEM || result == NGHTTP2_ERR_CALLBACK_FAILURE
                                ? NGHTTP2_INTERNAL_ERROR
                                : NGHTTP2_PROTOCOL_ERROR;
      impl.fail(code, std::string("nghttp2: ") + nghttp2_strerror(static_cast<int>(result)));
    }
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
  Impl& impl = *impl_;
  impl.output.clear();
  impl.sending = true;
  while (impl.output.size() < kOutputChunkBytes) {
    const uint8_t* data = nullptr;
    const ssize_t length = nghttp2_session_mem_send(impl.session, &data);
    if (length < 0) {
      if (!impl.failed) {
        impl.failed = true;
        impl.error = std::string("nghttp2: ") + nghttp2_strerror(static_cast<int>(length));
      }
      break;
    }
    if (length == 0) break;
    impl.output.append(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
  }
  impl.sending = false;
  impl.dispatchAfterSend();
  return {impl.output.data(), impl.output.size()};
}

bool ClientCodec::wantsWrite() const {
  return nghttp2_session_want_write(impl_->session) != 0;
}

bool ClientCodec::wantsRead() const {
  return !impl_->failed && nghttp2_session_want_read(impl_->session) != 0;
}

int32_t ClientCodec::submitRequest(const RequestHead& head, bool endStream) {
  Impl& impl = *impl_;
  if (!canOpenStream()) return -1;
  const std::vector<Field> fields = requestFields(head);
  const std::vector<nghttp2_nv> list = nameValues(fields);
  nghttp2_data_provider provider{};
  provider.read_callback = &Impl::readBody;
  const int32_t id = nghttp2_submit_request(impl.session, nullptr, list.data(), list.size(),
                                            endStream ? nullptr : &provider, nullptr);
  if (id < 0) return -1;
  Impl::Stream& stream = impl.streams[id];
  stream.bodyProvided = !endStream;
  stream.bodyEnded = endStream;
  return id;
}

void ClientCodec::appendBody(int32_t stream, std::span<const char> data, bool end) {
  Impl& impl = *impl_;
  Impl::Stream* state = impl.find(stream);
  if (state == nullptr || state->bodyEnded || state->resetSubmitted) return;
  state->body.append(data.data(), data.size());
  if (end) state->bodyEnded = true;
  impl.resumeBody(stream, *state);
}

void ClientCodec::submitTrailers(int32_t stream, const std::vector<Field>& trailers) {
  Impl& impl = *impl_;
  Impl::Stream* state = impl.find(stream);
  if (state == nullptr || state->bodyEnded || state->resetSubmitted) return;
  std::vector<Field> fields = outboundFields(trailers);
  // An empty trailer block would be a HEADERS frame with nothing in it: end with the body instead.
  if (!fields.empty()) state->requestTrailers = std::move(fields);
  state->bodyEnded = true;
  impl.resumeBody(stream, *state);
}

size_t ClientCodec::queuedBody(int32_t stream) const {
  const Impl::Stream* state = impl_->find(stream);
  return state == nullptr ? 0 : state->queued();
}

void ClientCodec::resetStream(int32_t stream, uint32_t errorCode) {
  Impl& impl = *impl_;
  Impl::Stream* state = impl.find(stream);
  if (state == nullptr || state->resetSubmitted) return;
  state->resetSubmitted = true;
  state->body.clear();
  state->bodyOffset = 0;
  nghttp2_submit_rst_stream(impl.session, NGHTTP2_FLAG_NONE, stream, errorCode);
}

void ClientCodec::consumed(int32_t stream, size_t bytes) {
  Impl& impl = *impl_;
  Impl::Stream* state = impl.find(stream);
  if (state == nullptr) return;  // closed: its bytes went back to the connection then
  const uint64_t count = std::min<uint64_t>(bytes, state->unconsumedBytes);
  if (count == 0) return;
  state->unconsumedBytes -= count;
  nghttp2_session_consume(impl.session, stream, static_cast<size_t>(count));
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
