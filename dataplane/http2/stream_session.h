// StreamSession<Stream, Events>: a SessionCore with what each codec keeps next to it in the same
// way — its streams by id and the handler its stream events go to — and the hooks SessionCore
// needs, answered from them. Internal to the HTTP/2 codecs, not meant for the proxy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "dataplane/http2/session_core.h"

namespace meshgate::dp::http2::detail {

// `Stream` derives from StreamCore; `Events` has onStreamClosed and onStreamWritable.
template <typename Stream, typename Events>
class StreamSession : public SessionCore {
 public:
  explicit StreamSession(Events& handler) : events(handler) {}

  Stream* find(int32_t id) {
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : &it->second;
  }
  const Stream* find(int32_t id) const {
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : &it->second;
  }
  // The codecs' queuedBody(): 0 for an unknown stream.
  size_t queuedBody(int32_t id) const {
    const Stream* stream = find(id);
    return stream == nullptr ? 0 : stream->body.queued();
  }

  Events& events;
  std::unordered_map<int32_t, Stream> streams;

 protected:
  StreamCore* findStreamCore(int32_t id) final { return find(id); }
  void notifyStreamClosed(int32_t id, uint32_t errorCode) final {
    events.onStreamClosed(id, errorCode);
  }
  void notifyStreamWritable(int32_t id) final { events.onStreamWritable(id); }
};

}  // namespace meshgate::dp::http2::detail
