// An HTTP/2 client connection: the codec between the socket and the request streams.
#include "dataplane/proxy/http2_connection.h"

#include <array>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dataplane/proxy/http2_exchange.h"
#include "dataplane/proxy/worker.h"

namespace meshgate::dp {

namespace {

using Steady = std::chrono::steady_clock;

http2::ServerLimits limitsFor(const ProxyConfig& config) {
  http2::ServerLimits limits;
  limits.maxHeaderListBytes = config.limits.maxHeaderBytes;
  return limits;
}

}  // namespace

Http2Connection::Http2Connection(Worker& worker, ByteStream& stream, Http2ConnectionInfo info)
    : worker_(worker),
      stream_(stream),
      info_(std::move(info)),
      codec_(*this, limitsFor(worker.view()->snapshot().config())),
      writerWake_(worker.context()),
      exchangesDone_(worker.context()) {
  worker_.sweeper().add(*this);
}

Http2Connection::~Http2Connection() = default;

asio::awaitable<void> Http2Connection::run(std::span<const char> alreadyRead) {
  using namespace asio::experimental::awaitable_operators;
  armIdleIfQuiet();
  co_await (readLoop(alreadyRead) && writeLoop());
  // Every exchange coroutine returns before the connection (and the codec they use) goes away.
  for (auto& [id, exchange] : exchanges_)
    exchange->abort();
  while (runningExchanges_ > 0) {
    exchangesDone_.expires_at(SteadyTime::max());
    co_await exchangesDone_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  exchanges_.clear();
  disarm();
}

asio::awaitable<void> Http2Connection::readLoop(std::span<const char> alreadyRead) {
  if (!alreadyRead.empty() && !codec_.receive(alreadyRead)) {
    worker_.countBadRequest("http2 protocol error");
    spdlog::debug("http2 connection from {} ended: {}", info_.peerIp, codec_.error());
    ended_ = true;
  }
  std::array<char, 16 * 1024> buffer;
  while (!ended_) {
    wakeWriter();
    auto [ec, n] = co_await stream_.readSome(asio::buffer(buffer));
    if (ended_) break;
    if (ec || n == 0) {
      // The client is gone: nothing can reach it any more.
      for (auto& [id, exchange] : exchanges_)
        exchange->abort();
      ended_ = true;
      break;
    }
    if (!codec_.receive({buffer.data(), n})) {
      worker_.countBadRequest("http2 protocol error");
      spdlog::debug("http2 connection from {} ended: {}", info_.peerIp, codec_.error());
      for (auto& [id, exchange] : exchanges_)
        exchange->abort();
      ended_ = true;  // the writer sends the GOAWAY, then the connection closes
    }
  }
  wakeWriter();
}

asio::awaitable<void> Http2Connection::writeLoop() {
  std::string out;
  const auto idle = worker_.view()->snapshot().config().timeouts.idle;
  for (;;) {
    writePending_ = false;
    for (;;) {
      const std::span<const char> next = codec_.nextOutput();
      if (next.empty()) break;
      // Exchanges call the codec while the write is pending: the bytes are copied out first.
      out.assign(next.data(), next.size());
      writing_ = true;
      arm(Steady::now() + idle);
      const bool failedWrite = failed(co_await stream_.writeAll(asio::buffer(out)));
      writing_ = false;
      disarm();
      armIdleIfQuiet();
      if (failedWrite) {
        endConnection();
        co_return;
      }
    }
    if (ended_ || (!codec_.wantsRead() && !codec_.wantsWrite())) break;
    if (!writePending_) {
      writerWake_.expires_at(SteadyTime::max());
      co_await writerWake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  endConnection();
}

void Http2Connection::wakeWriter() {
  writePending_ = true;
  writerWake_.cancel();
}

void Http2Connection::endConnection() {
  ended_ = true;
  stream_.cancel();
  writerWake_.cancel();
}

void Http2Connection::closeWhenIdle() {
  if (draining_) return;
  draining_ = true;
  codec_.goAway();
  wakeWriter();
}

void Http2Connection::abort() {
  for (auto& [id, exchange] : exchanges_)
    exchange->abort();
  endConnection();
}

void Http2Connection::armIdleIfQuiet() {
  if (!exchanges_.empty() || writing_) return;
  const auto idle = worker_.view()->snapshot().config().timeouts.idle;
  if (idle.count() > 0) arm(Steady::now() + idle);
}

void Http2Connection::onDeadline() {
  if (writing_ || exchanges_.empty()) {
    // A client that stopped reading, or a connection without streams for the idle timeout.
    if (!writing_ && !draining_) {
      draining_ = true;
      codec_.goAway();
      wakeWriter();
      // A client that does not close after the GOAWAY is closed at the next idle timeout.
      armIdleIfQuiet();
      return;
    }
    endConnection();
  }
}

Http2Exchange* Http2Connection::find(int32_t stream) {
  const auto it = exchanges_.find(stream);
  return it == exchanges_.end() ? nullptr : it->second.get();
}

void Http2Connection::onRequestHead(int32_t stream, http2::RequestHead head) {
  auto exchange = std::make_shared<Http2Exchange>(*this, stream, std::move(head));
  exchanges_.emplace(stream, exchange);
  ++runningExchanges_;
  disarm();
  asio::co_spawn(worker_.context(), Http2Exchange::serve(std::move(exchange)), asio::detached);
}

void Http2Connection::onRequestData(int32_t stream, std::span<const char> data) {
  if (Http2Exchange* exchange = find(stream))
    exchange->onData(data);
  else
    codec_.consumed(stream, data.size());
}

void Http2Connection::onRequestEnd(int32_t stream, std::vector<http2::Field> trailers) {
  if (Http2Exchange* exchange = find(stream)) exchange->onEnd(std::move(trailers));
}

void Http2Connection::onStreamClosed(int32_t stream, uint32_t errorCode) {
  const auto it = exchanges_.find(stream);
  if (it == exchanges_.end()) return;
  it->second->onClosed(errorCode);
  exchanges_.erase(it);
  armIdleIfQuiet();
}

void Http2Connection::onStreamWritable(int32_t stream) {
  if (Http2Exchange* exchange = find(stream)) exchange->onWritable();
}

void Http2Connection::exchangeFinished() {
  --runningExchanges_;
  // An exchange always ends its stream (a response or a reset); the stream closes once the codec
  // has written that out, and leaves the map then.
  if (runningExchanges_ == 0) exchangesDone_.cancel();
  wakeWriter();
}

}  // namespace meshgate::dp
