// SessionCore: the plumbing ServerCodec and ClientCodec share around their nghttp2 session — the
// output loop (nextOutput), the stream events nghttp2 raises while it frames output and that are
// handed out once it returned, the data provider that frames each stream's OutboundBody, flow
// control that follows consumed(), and connection failure. A codec's Impl derives from it and
// supplies its streams and its events through the hooks. Internal to the codecs, not meant for
// the proxy: it is not part of server_codec.h / client_codec.h.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/http2/outbound_body.h"
#include "dataplane/http2/server_codec.h"

namespace meshgate::dp::http2::detail {

// The part of a stream's state both sides keep; a codec's stream derives from it.
struct StreamCore {
  OutboundBody body;
  bool bodyProvided = false;     // nghttp2 pulls `body` through the core's data provider
  bool resetSubmitted = false;   // resetStream() was called: no more events about the peer's side
  uint64_t unconsumedBytes = 0;  // inbound body bytes delivered and not yet consumed()
};

class SessionCore {
 public:
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;

  // Options both sides create their session with (window updates follow consumed(); caps on
  // CONTINUATION frames, queued acknowledgements and SETTINGS entries). The caller deletes them.
  static nghttp2_option* newSessionOptions(uint32_t maxContinuationFrames, uint32_t maxQueuedAcks,
                                           uint32_t maxSettingsEntries);
  // Queues the local SETTINGS and widens the connection's receive window.
  void submitSettings(std::span<const nghttp2_settings_entry> settings,
                      uint32_t connectionWindowSize);

  // Ends the connection: GOAWAY `code` (after what is already queued); the first reason stays.
  void fail(uint32_t code, std::string why);
  // fail() for what nghttp2_session_mem_recv returned below zero: floods of CONTINUATION frames
  // or of acknowledgements (with the limits they broke), anything else by its nghttp2 name.
  void failReceive(ssize_t result, uint32_t maxContinuationFrames, uint32_t maxQueuedAcks);
  // Why a GOAWAY with an error code went out: "connection error: GOAWAY CODE (debug data)".
  static std::string describeGoAway(const nghttp2_goaway& goaway);

  // The codecs' nextOutput(), wantsWrite() and wantsRead().
  std::span<const char> nextOutput();
  bool wantsWrite() const;
  bool wantsRead() const;

  // A provider that frames the stream's OutboundBody: copies of queued bytes, deferred while
  // none are queued, then the end of the stream or its trailers.
  nghttp2_data_provider bodyProvider();
  // The codecs' appendBody, submitTrailers (`trailers` already filtered), resetStream, consumed.
  void appendBody(int32_t id, std::span<const char> data, bool end);
  void submitTrailers(int32_t id, std::vector<Field> trailers);
  void resetStream(int32_t id, uint32_t errorCode);
  void consumed(int32_t id, size_t bytes);

  // For a stream nghttp2 closed: its body bytes the handler will now never consume still hold the
  // connection's window; this gives them back.
  void releaseConnectionWindow(const StreamCore& stream);
  // Reports a closed stream to the handler: now, or, inside nghttp2_session_mem_send, once it
  // returned.
  void reportClosed(int32_t id, uint32_t errorCode);

  nghttp2_session* session = nullptr;
  bool failed = false;
  std::string error;

 protected:
  SessionCore() = default;
  virtual ~SessionCore();

  // The hooks: the side's state of stream `id` (nullptr once closed), and its handler's
  // onStreamClosed and onStreamWritable.
  virtual StreamCore* findStreamCore(int32_t id) = 0;
  virtual void notifyStreamClosed(int32_t id, uint32_t errorCode) = 0;
  virtual void notifyStreamWritable(int32_t id) = 0;

 private:
  static ssize_t readBody(nghttp2_session* session, int32_t id, uint8_t* buffer, size_t length,
                          uint32_t* dataFlags, nghttp2_data_source* source, void* user);
  // Hands out the events nghttp2 raised inside nghttp2_session_mem_send.
  void dispatchAfterSend();
  void resumeBody(int32_t id, const StreamCore& stream);

  std::string output_;
  bool sending_ = false;  // inside nghttp2_session_mem_send
  std::vector<std::pair<int32_t, uint32_t>> closedDuringSend_;
  std::vector<int32_t> writableDuringSend_;
};

}  // namespace meshgate::dp::http2::detail
