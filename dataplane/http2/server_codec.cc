// ServerCodec: the server side of one HTTP/2 connection, an nghttp2 server session plus defences.
#include "dataplane/http2/server_codec.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "dataplane/http2/fields.h"
#include "dataplane/http2/stream_session.h"

namespace meshgate::dp::http2 {
namespace {

constexpr size_t kFrameHeaderBytes = 9;
constexpr size_t kSettingsEntryBytes = 6;
constexpr uint8_t kSettingsFrameType = 0x4;
constexpr uint8_t kAckFlag = 0x1;

uint64_t nowSeconds() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Token bucket over whole seconds, the arithmetic of nghttp2's own stream reset limiter: `burst`
// tokens, `perSecond` more each second, at most `burst`.
class ResetBudget {
 public:
  ResetBudget(uint32_t burst, uint32_t perSecond)
      : burst_(burst), perSecond_(perSecond), tokens_(burst), lastSecond_(nowSeconds()) {}

  // Takes one token; false when none is left.
  bool take() {
    const uint64_t second = nowSeconds();
    if (second > lastSecond_) {
      tokens_ = std::min<uint64_t>(burst_, tokens_ + (second - lastSecond_) * perSecond_);
      lastSecond_ = second;
    }
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }

 private:
  uint64_t burst_;
  uint64_t perSecond_;
  uint64_t tokens_;
  uint64_t lastSecond_;
};

// Follows the client's bytes frame by frame (headers only; payloads are skipped, never copied) so
// that receive() can stop in front of a frame before nghttp2 acts on it.
class FrameScanner {
 public:
  explicit FrameScanner(uint32_t maxSettingsEntries) : maxSettingsEntries_(maxSettingsEntries) {}

  // The offset in `bytes` of the first byte of a frame to refuse, or bytes.size() when there is
  // none; `entries` then holds the offending SETTINGS frame's entry count.
  size_t scan(std::span<const char> bytes, size_t& entries) {
    size_t offset = 0;
    while (offset < bytes.size()) {
      const size_t left = bytes.size() - offset;
      if (prefaceLeft_ > 0) {
        const size_t take = std::min(prefaceLeft_, left);
        prefaceLeft_ -= take;
        offset += take;
        continue;
      }
      if (payloadLeft_ > 0) {
        const size_t take = std::min(payloadLeft_, left);
        payloadLeft_ -= take;
        offset += take;
        continue;
      }
      const size_t headerStart = offset >= headerFill_ ? offset - headerFill_ : 0;
      const size_t take = std::min(kFrameHeaderBytes - headerFill_, left);
      std::memcpy(header_ + headerFill_, bytes.data() + offset, take);
      headerFill_ += take;
      offset += take;
      if (headerFill_ < kFrameHeaderBytes) break;
      headerFill_ = 0;
      const size_t length = (size_t{header_[0]} << 16) | (size_t{header_[1]} << 8) | header_[2];
      const uint8_t type = header_[3];
      const uint8_t flags = header_[4];
      payloadLeft_ = length;
      if (type == kSettingsFrameType && (flags & kAckFlag) == 0 &&
          length / kSettingsEntryBytes > maxSettingsEntries_) {
        entries = length / kSettingsEntryBytes;
        return headerStart;
      }
    }
    return bytes.size();
  }

 private:
  uint32_t maxSettingsEntries_;
  size_t prefaceLeft_ = kClientPreface.size();
  size_t payloadLeft_ = 0;
  uint8_t header_[kFrameHeaderBytes] = {};
  size_t headerFill_ = 0;
};

// What a response or its trailers may carry beyond the shared rules: not te, a request-only field;
// values without forbidden characters.
bool admitResponseField(Field& field) {
  return field.name != "te" &&
         nghttp2_check_header_value(detail::bytesOf(field.value), field.value.size());
}

std::vector<Field> outboundFields(const std::vector<Field>& fields) {
  return detail::outboundFields(fields, &admitResponseField);
}

// The response body and the request body's flow control live in StreamCore.
struct ServerStream : detail::StreamCore {
  // The request, collected from its header blocks.
  RequestHead head;
  std::string host;  // the host field, the authority when :authority is absent
  std::vector<Field> trailers;
  detail::HeaderListSize headerList;  // of the header block being received
  bool receivingTrailers = false;
  bool headDelivered = false;
  bool responseSubmitted = false;  // the final (non-1xx) response headers
};

}  // namespace

struct ServerCodec::Impl final : detail::StreamSession<ServerStream, ServerCodecEvents> {
  using Stream = ServerStream;

  Impl(ServerCodecEvents& handler, const ServerLimits& codecLimits)
      : StreamSession(handler),
        limits(codecLimits),
        resetBudget(codecLimits.resetBurst, codecLimits.resetsPerSecond),
        scanner(codecLimits.maxSettingsEntries) {}

  void closeStream(int32_t id, uint32_t errorCode) {
    Stream* stream = find(id);
    if (stream == nullptr) return;
    releaseConnectionWindow(*stream);
    const bool delivered = stream->headDelivered;
    streams.erase(id);
    if (!delivered) return;
    --openDeliveredStreams;
    reportClosed(id, errorCode);
  }

  void deliverHead(int32_t id, Stream& stream, bool endStream) {
    stream.headDelivered = true;
    ++openDeliveredStreams;
    if (stream.head.authority.empty()) stream.head.authority = std::move(stream.host);
    stream.head.endStream = endStream;
    events.onRequestHead(id, std::move(stream.head));
    if (!endStream) return;
    // The handler may have reset the stream from onRequestHead.
    Stream* after = find(id);
    if (after != nullptr && !after->resetSubmitted) events.onRequestEnd(id, {});
  }

  // nghttp2 callbacks; `user` is the Impl.

  // A HEADERS frame opening a stream below one the client already opened: that stream can never
  // be opened, a connection error (RFC 9113 section 5.1.1). nghttp2 lets it pass, to spare
  // trailers on a stream it reset; those come on streams the client opened recently.
  static int onBeginFrame(nghttp2_session* session, const nghttp2_frame_hd* hd, void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (hd->type != NGHTTP2_HEADERS || hd->stream_id % 2 == 0) return 0;
    const int32_t id = hd->stream_id;
    if (id > self.highestClientStream) {
      self.highestClientStream = id;
      self.recentlyOpened[self.recentlyOpenedNext++ % self.recentlyOpened.size()] = id;
      return 0;
    }
    if (self.streams.count(id) != 0 || nghttp2_session_find_stream(session, id) != nullptr ||
        std::find(self.recentlyOpened.begin(), self.recentlyOpened.end(), id) !=
            self.recentlyOpened.end())
      return 0;
    self.tripped =
        Tripped{NGHTTP2_PROTOCOL_ERROR,
                "HEADERS on stream " + std::to_string(id) + ", below stream " +
                    std::to_string(self.highestClientStream) + " the client already opened"};
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    const int32_t id = frame->hd.stream_id;
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      self.streams.try_emplace(id);
      return 0;
    }
    if (Stream* stream = self.find(id)) {
      stream->receivingTrailers = true;
      stream->trailers.clear();
      stream->headerList.reset();
    }
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* nameBytes,
                      size_t nameLength, const uint8_t* valueBytes, size_t valueLength, uint8_t,
                      void* user) {
    auto& self = *static_cast<Impl*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* stream = self.find(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    if (!stream->headerList.add(nameLength, valueLength, self.limits.maxHeaderListBytes)) {
      // nghttp2 resets the stream and decodes the rest of the block without reporting it.
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    const std::string_view name(reinterpret_cast<const char*>(nameBytes), nameLength);
    const std::string_view value(reinterpret_cast<const char*>(valueBytes), valueLength);
    if (stream->receivingTrailers) {
      stream->trailers.push_back(Field{std::string(name), std::string(value)});
      return 0;
    }
    RequestHead& head = stream->head;
    if (!name.empty() && name.front() == ':') {
      if (name == ":method") {
        head.method = value;
      } else if (name == ":scheme") {
        head.scheme = value;
      } else if (name == ":authority") {
        head.authority = value;
      } else if (name == ":path") {
        head.path = value;
      }
      return 0;
    }
    if (name == "host") {
      stream->host = value;
    } else if (name == "content-length") {
      uint64_t length = 0;
      const auto [end, status] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (status == std::errc() && end == value.data() + value.size()) head.contentLength = length;
    }
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
        if (stream == nullptr || stream->resetSubmitted) return 0;
        if (!stream->headDelivered) {
          if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) self.deliverHead(id, *stream, endStream);
          return 0;
        }
        if (stream->receivingTrailers && endStream) {
          std::vector<Field> trailers = std::move(stream->trailers);
          stream->trailers.clear();
          self.events.onRequestEnd(id, std::move(trailers));
        }
        return 0;
      }
      case NGHTTP2_DATA: {
        Stream* stream = self.find(id);
        if (endStream && stream != nullptr && stream->headDelivered && !stream->resetSubmitted)
          self.events.onRequestEnd(id, {});
        return 0;
      }
      case NGHTTP2_RST_STREAM:
        ++self.resetsReceived;
        if (!self.resetBudget.take()) {
          self.tripped =
              Tripped{NGHTTP2_ENHANCE_YOUR_CALM,
                      "rapid reset: the client reset " + std::to_string(self.resetsReceived) +
                          " streams (limit " + std::to_string(self.limits.resetBurst) + ", then " +
                          std::to_string(self.limits.resetsPerSecond) + " per second)"};
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        return 0;
      default:
        return 0;
    }
  }

  static int onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                         size_t length, void* user) {
    auto& self = *static_cast<Impl*>(user);
    Stream* stream = self.find(id);
    if (stream == nullptr || !stream->headDelivered || stream->resetSubmitted) {
      // Nobody will forward these bytes: give their window back now.
      nghttp2_session_consume(session, id, length);
      return 0;
    }
    stream->unconsumedBytes += length;
    self.events.onRequestData(id,
                              std::span<const char>(reinterpret_cast<const char*>(data), length));
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t errorCode, void* user) {
    static_cast<Impl*>(user)->closeStream(id, errorCode);
    return 0;
  }

  static int onFrameSent(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto& self = *static_cast<Impl*>(user);
    const bool endsResponse =
        (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (endsResponse &&
        nghttp2_session_get_stream_remote_close(session, frame->hd.stream_id) == 0) {
      // The response is complete and the request is not: the client may stop sending it
      // (RFC 9113 section 8.1), and the stream does not hold a slot until it does.
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
      return 0;
    }
    if (frame->hd.type != NGHTTP2_GOAWAY || frame->goaway.error_code == NGHTTP2_NO_ERROR) return 0;
    // A connection error nghttp2 found and answered by itself (receive() could not tell).
    if (!self.failed) {
      self.failed = true;
      self.error = describeGoAway(frame->goaway);
    }
    return 0;
  }

  struct Tripped {
    uint32_t code;
    std::string why;
  };

  ServerLimits limits;
  size_t openDeliveredStreams = 0;
  ResetBudget resetBudget;
  FrameScanner scanner;
  uint64_t resetsReceived = 0;
  std::optional<Tripped> tripped;  // a defence in a callback failed the session
  int32_t highestClientStream = 0;
  std::array<int32_t, 1024> recentlyOpened{};  // the last stream ids the client opened
  size_t recentlyOpenedNext = 0;
  bool goAwaySubmitted = false;
};

ServerCodec::ServerCodec(ServerCodecEvents& events, const ServerLimits& limits)
    : impl_(std::make_unique<Impl>(events, limits)) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, &Impl::onBeginFrame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Impl::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Impl::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Impl::onFrameReceived);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Impl::onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Impl::onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Impl::onFrameSent);

  nghttp2_option* option = detail::SessionCore::newSessionOptions(
      limits.maxContinuationFrames, limits.maxQueuedAcks, limits.maxSettingsEntries);
  // nghttp2's own limiter only queues a GOAWAY INTERNAL_ERROR and carries on; ResetBudget, with
  // the same arithmetic, runs first (in on_frame_recv) and fails the connection. The one extra
  // token keeps nghttp2's a backstop even when the two read the clock on either side of a second.
  nghttp2_option_set_stream_reset_rate_limit(option, uint64_t{limits.resetBurst} + 1,
                                             limits.resetsPerSecond);

  nghttp2_session_server_new2(&impl_->session, callbacks, impl_.get(), option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.maxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.initialWindowSize},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.maxHeaderListBytes},
  };
  impl_->submitSettings(settings, limits.connectionWindowSize);
}

ServerCodec::~ServerCodec() = default;

bool ServerCodec::receive(std::span<const char> bytes) {
  Impl& impl = *impl_;
  if (impl.failed) return false;
  size_t settingsEntries = 0;
  const size_t accepted = impl.scanner.scan(bytes, settingsEntries);
  const ssize_t result = nghttp2_session_mem_recv(
      impl.session, reinterpret_cast<const uint8_t*>(bytes.data()), accepted);
  if (result < 0) {
    if (impl.tripped) {
      Impl::Tripped tripped = std::move(*impl.tripped);
      impl.tripped.reset();
      impl.fail(tripped.code, std::move(tripped.why));
    } else if (result == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
      impl.fail(NGHTTP2_PROTOCOL_ERROR, "not an HTTP/2 client: bad connection preface");
    } else {
      impl.failReceive(result, impl.limits.maxContinuationFrames, impl.limits.maxQueuedAcks);
    }
    return false;
  }
  if (accepted < bytes.size()) {
    impl.fail(NGHTTP2_ENHANCE_YOUR_CALM, "SETTINGS flood: a SETTINGS frame with " +
                                             std::to_string(settingsEntries) + " entries (limit " +
                                             std::to_string(impl.limits.maxSettingsEntries) + ")");
    return false;
  }
  return !impl.failed;
}

std::span<const char> ServerCodec::nextOutput() {
  return impl_->nextOutput();
}

bool ServerCodec::wantsWrite() const {
  return impl_->wantsWrite();
}

bool ServerCodec::wantsRead() const {
  return impl_->wantsRead();
}

bool ServerCodec::submitResponse(int32_t stream, unsigned status, const std::vector<Field>& headers,
                                 bool endStream) {
  Impl& impl = *impl_;
  Impl::Stream* state = impl.find(stream);
  if (impl.failed || state == nullptr || !state->headDelivered || state->resetSubmitted ||
      state->responseSubmitted)
    return false;
  if (status < 100 || status > 999 || status == 101) return false;
  const std::string statusName = ":status";
  const std::string statusText = std::to_string(status);
  const std::vector<Field> fields = outboundFields(headers);
  std::vector<nghttp2_nv> list;
  list.reserve(fields.size() + 1);
  list.push_back(detail::nameValue(statusName, statusText));
  for (const Field& field : fields)
    list.push_back(detail::nameValue(field.name, field.value));

  if (status < 200) {  // informational: more headers follow
    return nghttp2_submit_headers(impl.session, NGHTTP2_FLAG_NONE, stream, nullptr, list.data(),
                                  list.size(), nullptr) == 0;
  }
  state->responseSubmitted = true;
  if (endStream) {
    state->body.endWithoutBody();
    return nghttp2_submit_response(impl.session, stream, list.data(), list.size(), nullptr) == 0;
  }
  const nghttp2_data_provider provider = impl.bodyProvider();
  state->bodyProvided = true;
  return nghttp2_submit_response(impl.session, stream, list.data(), list.size(), &provider) == 0;
}

void ServerCodec::appendBody(int32_t stream, std::span<const char> data, bool end) {
  impl_->appendBody(stream, data, end);
}

void ServerCodec::submitTrailers(int32_t stream, const std::vector<Field>& trailers) {
  impl_->submitTrailers(stream, outboundFields(trailers));
}

size_t ServerCodec::queuedBody(int32_t stream) const {
  return impl_->queuedBody(stream);
}

void ServerCodec::resetStream(int32_t stream, uint32_t errorCode) {
  impl_->resetStream(stream, errorCode);
}

void ServerCodec::consumed(int32_t stream, size_t bytes) {
  impl_->consumed(stream, bytes);
}

void ServerCodec::goAway() {
  Impl& impl = *impl_;
  if (impl.failed || impl.goAwaySubmitted) return;
  impl.goAwaySubmitted = true;
  nghttp2_submit_goaway(impl.session, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(impl.session), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

size_t ServerCodec::openStreams() const {
  return impl_->openDeliveredStreams;
}

std::string_view ServerCodec::error() const {
  return impl_->error;
}

uint64_t ServerCodec::resetsReceived() const {
  return impl_->resetsReceived;
}

}  // namespace meshgate::dp::http2
