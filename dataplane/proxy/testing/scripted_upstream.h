// ScriptedUpstream: the upstream end of the proxy's request-path tests (request_path_test.cc).
// A loopback TCP server (127.0.0.1, an ephemeral port) that plays a script on each connection it
// accepts — read one request, write these raw bytes, half-close, close, wait for the test — and
// records every byte it receives and sends, so that a test can assert exactly what the proxy sent
// and can script answers a well-behaved server would never give: interim 1xx responses, a body
// shorter than its Content-Length, a close at the moment a pooled connection is reused, bytes
// nobody asked for. Responses are raw bytes, never a serialised message, so they can be malformed
// on purpose.
//
// Threading: the server runs its own io_context on a thread of its own, and the scripts (and a
// respondWith() callback) run there. The test thread reads the recording through the accessors,
// which copy it under a mutex, and awaits conditions with waitUntil() and its shorthands, each
// bounded by a deadline. Header-only, test code.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "dataplane/http/chunked_decoder.h"
#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/testing/loopback_listener.h"

namespace meshgate::dp::testing {

// What the upstream does on one connection, step by step. When the steps run out (without
// close() or repeat()) the connection stays open, still recording what arrives, until the proxy
// closes it.
class ConnectionScript {
 public:
  // Receives the raw request and returns the raw bytes to answer with. Called on the upstream's
  // thread.
  using Answer = std::function<std::string(const std::string& request)>;

  // Reads one whole request: the head, then the body its Content-Length or chunked framing says.
  // The proxy closing the connection first ends the script.
  ConnectionScript& readRequest() { return add({Kind::ReadRequest, {}, {}}); }
  // Writes `bytes` as they are.
  ConnectionScript& write(std::string bytes) { return add({Kind::Write, std::move(bytes), {}}); }
  // readRequest(), then write(response).
  ConnectionScript& respond(std::string response) {
    return readRequest().write(std::move(response));
  }
  // readRequest(), then writes what `answer` returns for it.
  ConnectionScript& respondWith(Answer answer) {
    return add({Kind::RespondWith, {}, std::move(answer)});
  }
  // Half-close: no more bytes from the upstream; it still reads.
  ConnectionScript& shutdownSend() { return add({Kind::ShutdownSend, {}, {}}); }
  // Closes the connection; the script ends here.
  ConnectionScript& close() { return add({Kind::Close, {}, {}}); }
  // Waits for the test's ScriptedUpstream::release(), so that what follows happens after
  // something the test awaited (one release lets one pause through, whichever connection).
  ConnectionScript& pause() { return add({Kind::Pause, {}, {}}); }
  // Plays the steps again and again until the proxy closes the connection (the steps must read,
  // or the script would never wait for the proxy).
  ConnectionScript& repeat() {
    repeat_ = true;
    return *this;
  }

 private:
  friend class ScriptedUpstream;
  enum class Kind { ReadRequest, Write, RespondWith, ShutdownSend, Close, Pause };
  struct Step {
    Kind kind;
    std::string bytes;
    Answer answer;
  };
  ConnectionScript& add(Step step) {
    steps_.push_back(std::move(step));
    return *this;
  }

  std::vector<Step> steps_;
  bool repeat_ = false;
};

// What one accepted connection received, and how it ended.
struct UpstreamConnectionRecord {
  std::vector<std::string> requests;  // each whole request read, raw (head and body)
  std::string received;               // every byte received, in order
  std::string sent;                   // every byte written, in order
  bool peerClosed = false;            // the proxy closed (or reset) its end
  bool closed = false;                // the upstream closed its end: the script is over
  std::string error;                  // a request the upstream could not parse
};

class ScriptedUpstream {
 public:
  using Records = std::vector<UpstreamConnectionRecord>;

  // Connection i (in accept order) plays scripts[i]; every connection after those plays
  // `afterwards` (by default: closed at once, which a test notices in its connection count; so
  // a default ScriptedUpstream is one the proxy should never need).
  explicit ScriptedUpstream(std::vector<ConnectionScript> scripts = {},
                            ConnectionScript afterwards = ConnectionScript().close())
      : scripts_(std::move(scripts)), afterwards_(std::move(afterwards)), acceptor_(context_) {
    port_ = listenOnLoopback(acceptor_);
    boost::asio::co_spawn(context_, acceptLoop(), boost::asio::detached);
    std::promise<void> stopped;
    stopped_ = stopped.get_future();
    thread_ = std::thread([this, stopped = std::move(stopped)]() mutable {
      context_.run();
      stopped.set_value();
    });
  }

  ~ScriptedUpstream() {
    // Closing the acceptor and every socket ends each script at its pending read or write; the
    // io_context then runs out of work. stop() is the backstop should a script not end.
    boost::asio::post(context_, [this] {
      stopping_ = true;
      gate_.cancel();
      error_code ignored;
      acceptor_.close(ignored);
      for (const auto& weak : sockets_)
        if (auto socket = weak.lock()) socket->close(ignored);
    });
    if (stopped_.wait_for(std::chrono::seconds(5)) != std::future_status::ready) context_.stop();
    thread_.join();
  }
  ScriptedUpstream(const ScriptedUpstream&) = delete;
  ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

  uint16_t port() const { return port_; }

  // Lets one pause() step through. Thread-safe.
  void release() {
    boost::asio::post(context_, [this] {
      releases_++;
      gate_.cancel();
    });
  }

  // Thread-safe copies of the recording.
  Records connections() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  size_t connectionCount() const {
    std::lock_guard lock(mutex_);
    return records_.size();
  }
  // Every whole request received, in arrival order across connections.
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  // Waits until `condition` holds for the recording (true), or `timeout` passes (false).
  bool waitUntil(const std::function<bool(const Records&)>& condition,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return condition(records_); });
  }
  bool waitForConnections(size_t count) const {
    return waitUntil([count](const Records& r) { return r.size() >= count; });
  }
  bool waitForRequests(size_t count) const {
    return waitUntil([this, count](const Records&) { return requests_.size() >= count; });
  }
  // Waits until the proxy has closed connection `index`.
  bool waitForPeerClose(size_t index) const {
    return waitUntil([index](const Records& r) { return r.size() > index && r[index].peerClosed; });
  }

 private:
  using tcp = boost::asio::ip::tcp;
  using error_code = boost::system::error_code;
  static constexpr auto kNoThrow = boost::asio::as_tuple(boost::asio::use_awaitable);

  boost::asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(context_);
      auto [ec] = co_await acceptor_.async_accept(*socket, kNoThrow);
      if (ec) co_return;
      sockets_.push_back(socket);
      size_t index = 0;
      {
        std::lock_guard lock(mutex_);
        index = records_.size();
        records_.emplace_back();
      }
      changed_.notify_all();
      const ConnectionScript& script = index < scripts_.size() ? scripts_[index] : afterwards_;
      boost::asio::co_spawn(context_, play(std::move(socket), index, script),
                            boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> play(std::shared_ptr<tcp::socket> socket, size_t index,
                                    ConnectionScript script) {
    co_await runSteps(*socket, index, script);
    finish(*socket, index);
  }

  // Plays `script`; returns when it closes, when the connection ends, or — the steps run out —
  // once the proxy has closed the connection.
  boost::asio::awaitable<void> runSteps(tcp::socket& socket, size_t index,
                                        const ConnectionScript& script) {
    std::string pending;  // bytes received and not yet part of a whole request
    do {
      for (const auto& step : script.steps_) {
        switch (step.kind) {
          case ConnectionScript::Kind::ReadRequest:
          case ConnectionScript::Kind::RespondWith: {
            const std::optional<std::string> request = co_await readRequest(socket, index, pending);
            if (!request) co_return;
            if (step.kind == ConnectionScript::Kind::RespondWith &&
                !co_await write(socket, index, step.answer(*request)))
              co_return;
            break;
          }
          case ConnectionScript::Kind::Write:
            if (!co_await write(socket, index, step.bytes)) co_return;
            break;
          case ConnectionScript::Kind::Pause:
            while (releases_ == 0) {
              if (stopping_) co_return;
              gate_.expires_at(boost::asio::steady_timer::time_point::max());
              co_await gate_.async_wait(kNoThrow);
            }
            releases_--;
            break;
          case ConnectionScript::Kind::ShutdownSend: {
            error_code ignored;
            socket.shutdown(tcp::socket::shutdown_send, ignored);
            break;
          }
          case ConnectionScript::Kind::Close:
            co_return;
        }
      }
    } while (script.repeat_);
    // The script is over: hold the connection open, recording, until the proxy closes it.
    while (co_await readSome(socket, index, pending)) {
    }
  }

  // One whole request from `pending` and the socket; nullopt when the connection ends first or
  // the bytes are not a request.
  boost::asio::awaitable<std::optional<std::string>> readRequest(tcp::socket& socket, size_t index,
                                                                 std::string& pending) {
    for (;;) {
      const std::optional<size_t> length = requestLength(pending, index);
      if (length && *length > 0) {
        std::string request = pending.substr(0, *length);
        pending.erase(0, *length);
        {
          std::lock_guard lock(mutex_);
          records_[index].requests.push_back(request);
          requests_.push_back(request);
        }
        changed_.notify_all();
        co_return request;
      }
      if (!length) co_return std::nullopt;
      if (!co_await readSome(socket, index, pending)) co_return std::nullopt;
    }
  }

  // The length of the first whole request in `bytes`: 0 while incomplete, nullopt (and the error
  // recorded) when the bytes cannot be a request.
  std::optional<size_t> requestLength(std::string_view bytes, size_t index) {
    if (bytes.empty()) return 0;
    http::RequestHead head;
    const http::ParseStatus status = http::parseRequestHead(bytes, http::Limits{}, head);
    if (status == http::ParseStatus::NeedMore) return 0;
    if (status != http::ParseStatus::Complete) {
      recordError(index, "unparsable request: " + std::string(http::describe(status)));
      return std::nullopt;
    }
    const std::string_view body = bytes.substr(head.headBytes);
    switch (head.framing) {
      case http::BodyFraming::ContentLength:
        return body.size() >= head.contentLength ? head.headBytes + head.contentLength : 0;
      case http::BodyFraming::Chunked: {
        http::ChunkedDecoder decoder;
        const auto result = decoder.consume(body);
        if (result.status == http::ChunkedDecoder::Status::Error) {
          recordError(index, "invalid chunked body");
          return std::nullopt;
        }
        return result.status == http::ChunkedDecoder::Status::Done
                   ? head.headBytes + result.consumed
                   : 0;
      }
      case http::BodyFraming::None:
      case http::BodyFraming::UntilClose:
        break;
    }
    return head.headBytes;
  }

  // Reads what is there into `pending` and the recording; false when the connection ended.
  boost::asio::awaitable<bool> readSome(tcp::socket& socket, size_t index, std::string& pending) {
    char buffer[16 * 1024];
    auto [ec, n] = co_await socket.async_read_some(boost::asio::buffer(buffer), kNoThrow);
    if (ec) {
      // Our own close (the destructor) is not the proxy closing.
      if (ec != boost::asio::error::operation_aborted && ec != boost::asio::error::bad_descriptor) {
        std::lock_guard lock(mutex_);
        records_[index].peerClosed = true;
      }
      changed_.notify_all();
      co_return false;
    }
    pending.append(buffer, n);
    {
      std::lock_guard lock(mutex_);
      records_[index].received.append(buffer, n);
    }
    changed_.notify_all();
    co_return true;
  }

  boost::asio::awaitable<bool> write(tcp::socket& socket, size_t index, const std::string& bytes) {
    auto [ec, n] = co_await boost::asio::async_write(socket, boost::asio::buffer(bytes), kNoThrow);
    if (ec) co_return false;
    {
      std::lock_guard lock(mutex_);
      records_[index].sent.append(bytes);
    }
    changed_.notify_all();
    co_return true;
  }

  void finish(tcp::socket& socket, size_t index) {
    error_code ignored;
    socket.close(ignored);
    {
      std::lock_guard lock(mutex_);
      records_[index].closed = true;
    }
    changed_.notify_all();
  }

  void recordError(size_t index, std::string error) {
    {
      std::lock_guard lock(mutex_);
      records_[index].error = std::move(error);
    }
    changed_.notify_all();
  }

  mutable std::mutex mutex_;  // guards the recording
  mutable std::condition_variable changed_;
  Records records_;
  std::vector<std::string> requests_;

  const std::vector<ConnectionScript> scripts_;
  const ConnectionScript afterwards_;
  boost::asio::io_context context_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  // Upstream thread only.
  std::vector<std::weak_ptr<tcp::socket>> sockets_;
  boost::asio::steady_timer gate_{context_};  // pause() waits on it; release() cancels it
  size_t releases_ = 0;
  bool stopping_ = false;
  std::thread thread_;
  std::future<void> stopped_;
};

// A complete 200 response with `body`, for scripts.
inline std::string okResponse(std::string_view body) {
  return "HTTP/1.1 200 OK\r\ncontent-length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

}  // namespace meshgate::dp::testing
