// FakeTransport answers RestClient requests from a script of canned responses and records
// what was sent; for unit tests of everything above the Transport seam.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "kube/transport.h"

namespace kube {

// A scripted response stream: hands out `chunks` in order, then either ends the body or (with
// holdOpen) blocks like a quiet watch until cancel() or its idle timeout.
class FakeResponseStream : public ResponseStream {
 public:
  FakeResponseStream(std::deque<std::string> chunks, bool holdOpen)
      : chunks_(std::move(chunks)), holdOpen_(holdOpen) {}

  // kube::ResponseStream
  Result<std::string> read(std::chrono::milliseconds idleTimeout) override {
    std::unique_lock lock(mutex_);
    if (!chunks_.empty()) {
      auto chunk = std::move(chunks_.front());
      chunks_.pop_front();
      return chunk;
    }
    if (!holdOpen_) return std::string();
    if (!cv_.wait_for(lock, idleTimeout, [this] { return cancelled_; })) {
      return ApiError::timeout("no data on the stream for " + std::to_string(idleTimeout.count()) +
                               "ms");
    }
    return ApiError::cancelled();
  }
  void cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> chunks_;
  bool holdOpen_;
  bool cancelled_ = false;
};

class FakeTransport : public Transport {
 public:
  using StreamHandler = std::function<Result<ResponseStreamPtr>(const HttpRequest&)>;

  // Each watch is answered by the next queued stream handler; with none left, an error.
  void enqueueStream(StreamHandler handler) {
    std::lock_guard lock(mutex_);
    streams_.push_back(std::move(handler));
  }

  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  // Each request is answered by the next queued handler; when none is left, by `fallback`.
  void enqueue(Handler handler) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(handler));
  }
  void enqueueResponse(int status, std::string body,
                       std::map<std::string, std::string> headers = {}) {
    enqueue([=](const HttpRequest&) -> Result<HttpResponse> {
      HttpResponse response;
      response.status = status;
      response.body = body;
      response.headers = headers;
      return response;
    });
  }
  void setFallback(Handler handler) {
    std::lock_guard lock(mutex_);
    fallback_ = std::move(handler);
  }
  std::vector<HttpRequest> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }

  // kube::Transport
  Result<HttpResponse> roundTrip(const HttpRequest& request) override {
    Handler handler;
    {
      std::lock_guard lock(mutex_);
      sent_.push_back(request);
      if (!script_.empty()) {
        handler = std::move(script_.front());
        script_.pop_front();
      } else {
        handler = fallback_;
      }
    }
    if (!handler) return ApiError::network("FakeTransport: no response scripted");
    return handler(request);
  }
  Result<ResponseStreamPtr> stream(const HttpRequest& request) override {
    StreamHandler handler;
    {
      std::lock_guard lock(mutex_);
      sent_.push_back(request);
      if (!streams_.empty()) {
        handler = std::move(streams_.front());
        streams_.pop_front();
      }
    }
    if (!handler) return ApiError::network("FakeTransport: no stream scripted");
    return handler(request);
  }

 private:
  mutable std::mutex mutex_;
  std::deque<Handler> script_;
  std::deque<StreamHandler> streams_;
  Handler fallback_;
  std::vector<HttpRequest> sent_;
};

}  // namespace kube
