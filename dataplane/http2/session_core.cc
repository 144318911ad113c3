// SessionCore: the nghttp2 session plumbing shared by ServerCodec and ClientCodec.
#include "dataplane/http2/session_core.h"

#include <algorithm>

#include "dataplane/http2/fields.h"

namespace meshgate::dp::http2::detail {
namespace {

// nextOutput() stops collecting frames once this much is buffered.
constexpr size_t kOutputChunkBytes = 64 * 1024;

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

}  // namespace

SessionCore::~SessionCore() {
  if (session != nullptr) nghttp2_session_del(session);
}

nghttp2_option* SessionCore::newSessionOptions(uint32_t maxContinuationFrames,
                                               uint32_t maxQueuedAcks,
                                               uint32_t maxSettingsEntries) {
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Window updates follow consumed(), not receipt.
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_continuations(option, maxContinuationFrames);
  nghttp2_option_set_max_outbound_ack(option, maxQueuedAcks);
  nghttp2_option_set_max_settings(option, maxSettingsEntries);
  return option;
}

void SessionCore::submitSettings(std::span<const nghttp2_settings_entry> settings,
                                 uint32_t connectionWindowSize) {
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(connectionWindowSize));
}

void SessionCore::fail(uint32_t code, std::string why) {
  if (!failed) {
    failed = true;
    if (error.empty()) error = std::move(why);
  }
  nghttp2_session_terminate_session(session, code);
}

void SessionCore::failReceive(ssize_t result, uint32_t maxContinuationFrames,
                              uint32_t maxQueuedAcks) {
  if (result == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
    fail(NGHTTP2_ENHANCE_YOUR_CALM, "CONTINUATION flood: a header block over " +
                                        std::to_string(maxContinuationFrames) +
                                        " CONTINUATION frames");
  } else if (result == NGHTTP2_ERR_FLOODED) {
    fail(NGHTTP2_ENHANCE_YOUR_CALM, "SETTINGS/PING flood: over " + std::to_string(maxQueuedAcks) +
                                        " acknowledgements not yet written");
  } else {
    const uint32_t code = result == NGHTTP2_ERR_NOMEM || result == NGHTTP2_ERR_CALLBACK_FAILURE
                              ? NGHTTP2_INTERNAL_ERROR
                              : NGHTTP2_PROTOCOL_ERROR;
    fail(code, std::string("nghttp2: ") + nghttp2_strerror(static_cast<int>(result)));
  }
}

std::string SessionCore::describeGoAway(const nghttp2_goaway& goaway) {
  const std::string debug(reinterpret_cast<const char*>(goaway.opaque_data),
                          goaway.opaque_data_len);
  return "connection error: GOAWAY " + errorCodeName(goaway.error_code) +
         (debug.empty() ? std::string() : " (" + debug + ")");
}

std::span<const char> SessionCore::nextOutput() {
  output_.clear();
  sending_ = true;
  while (output_.size() < kOutputChunkBytes) {
    const uint8_t* data = nullptr;
    const ssize_t length = nghttp2_session_mem_send(session, &data);
    if (length < 0) {
      if (!failed) {
        failed = true;
        error = std::string("nghttp2: ") + nghttp2_strerror(static_cast<int>(length));
      }
      break;
    }
    if (length == 0) break;
    output_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
  }
  sending_ = false;
  dispatchAfterSend();
  return {output_.data(), output_.size()};
}

bool SessionCore::wantsWrite() const {
  return nghttp2_session_want_write(session) != 0;
}

bool SessionCore::wantsRead() const {
  return !failed && nghttp2_session_want_read(session) != 0;
}

nghttp2_data_provider SessionCore::bodyProvider() {
  nghttp2_data_provider provider{};
  provider.source.ptr = this;
  provider.read_callback = &SessionCore::readBody;
  return provider;
}

void SessionCore::appendBody(int32_t id, std::span<const char> data, bool end) {
  StreamCore* stream = findStreamCore(id);
  if (stream == nullptr || stream->body.ended() || stream->resetSubmitted) return;
  stream->body.append(data);
  if (end) stream->body.end();
  resumeBody(id, *stream);
}

void SessionCore::submitTrailers(int32_t id, std::vector<Field> trailers) {
  StreamCore* stream = findStreamCore(id);
  if (stream == nullptr || stream->body.ended() || stream->resetSubmitted) return;
  stream->body.endWithTrailers(std::move(trailers));
  resumeBody(id, *stream);
}

void SessionCore::resetStream(int32_t id, uint32_t errorCode) {
  StreamCore* stream = findStreamCore(id);
  if (stream == nullptr || stream->resetSubmitted) return;
  stream->resetSubmitted = true;
  stream->body.drop();
  nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, errorCode);
}

void SessionCore::consumed(int32_t id, size_t bytes) {
  StreamCore* stream = findStreamCore(id);
  if (stream == nullptr) return;  // closed: its bytes went back to the connection then
  const uint64_t count = std::min<uint64_t>(bytes, stream->unconsumedBytes);
  if (count == 0) return;
  stream->unconsumedBytes -= count;
  nghttp2_session_consume(session, id, static_cast<size_t>(count));
}

void SessionCore::releaseConnectionWindow(const StreamCore& stream) {
  if (stream.unconsumedBytes > 0)
    nghttp2_session_consume_connection(session, stream.unconsumedBytes);
}

void SessionCore::reportClosed(int32_t id, uint32_t errorCode) {
  if (sending_) {
    closedDuringSend_.emplace_back(id, errorCode);
  } else {
    notifyStreamClosed(id, errorCode);
  }
}

ssize_t SessionCore::readBody(nghttp2_session* session, int32_t id, uint8_t* buffer, size_t length,
                              uint32_t* dataFlags, nghttp2_data_source* source, void*) {
  auto& self = *static_cast<SessionCore*>(source->ptr);
  StreamCore* stream = self.findStreamCore(id);
  if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  OutboundBody& body = stream->body;
  const size_t before = body.queued();
  if (std::min(length, before) == 0 && !body.ended()) return NGHTTP2_ERR_DEFERRED;
  const size_t taken = body.take(buffer, length);
  if (before >= ServerCodec::kLowWaterBytes && body.queued() < ServerCodec::kLowWaterBytes)
    self.writableDuringSend_.push_back(id);
  if (body.ended() && body.queued() == 0) {
    *dataFlags |= NGHTTP2_DATA_FLAG_EOF;
    if (body.trailers()) {
      *dataFlags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      const std::vector<nghttp2_nv> list = nameValues(*body.trailers());
      if (nghttp2_submit_trailer(session, id, list.data(), list.size()) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
  }
  return static_cast<ssize_t>(taken);
}

void SessionCore::dispatchAfterSend() {
  std::vector<std::pair<int32_t, uint32_t>> closed;
  closed.swap(closedDuringSend_);
  std::vector<int32_t> writable;
  writable.swap(writableDuringSend_);
  for (const auto& [id, errorCode] : closed)
    notifyStreamClosed(id, errorCode);
  for (const int32_t id : writable) {
    const StreamCore* stream = findStreamCore(id);
    if (stream != nullptr && stream->body.queued() < ServerCodec::kLowWaterBytes)
      notifyStreamWritable(id);
  }
}

void SessionCore::resumeBody(int32_t id, const StreamCore& stream) {
  if (stream.bodyProvided) nghttp2_session_resume_data(session, id);
}

}  // namespace meshgate::dp::http2::detail
