// A multiplexed HTTP/2 upstream connection and its request streams.
#include "dataplane/proxy/upstream_http2_connection.h"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace meshgate::dp {

namespace {
constexpr uint32_t kCancel = 8;         // RST_STREAM CANCEL
constexpr uint32_t kInternalError = 2;  // what a stream cut with its connection reports
using Steady = std::chrono::steady_clock;
}  // namespace

UpstreamHttp2Stream::UpstreamHttp2Stream(std::shared_ptr<UpstreamHttp2Connection> connection,
                                         int32_t id, asio::io_context& context)
    : connection_(std::move(connection)), id_(id), wake_(context) {}

UpstreamHttp2Stream::~UpstreamHttp2Stream() {
  if (!closed_ && !connection_->ended()) {
    connection_->codec().resetStream(id_, kCancel);
    connection_->wakeWriter();
  }
  connection_->forget(id_);
}

asio::awaitable<void> UpstreamHttp2Stream::wait() {
  if (!pending_) {
    wake_.expires_at(Steady::time_point::max());
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  pending_ = false;
}

void UpstreamHttp2Stream::notify() {
  pending_ = true;
  wake_.cancel();
}

void UpstreamHttp2Stream::cancel() {
  notify();
}

void UpstreamHttp2Stream::send(std::span<const char> data, bool end) {
  if (closed_ || connection_->ended()) return;
  connection_->codec().appendBody(id_, data, end);
  connection_->wakeWriter();
}

void UpstreamHttp2Stream::sendTrailers(const std::vector<http2::Field>& trailers) {
  if (closed_ || connection_->ended()) return;
  connection_->codec().submitTrailers(id_, trailers);
  connection_->wakeWriter();
}

size_t UpstreamHttp2Stream::queued() const {
  return connection_->codec().queuedBody(id_);
}

void UpstreamHttp2Stream::consumed(size_t bytes) {
  if (closed_ || connection_->ended() || bytes == 0) return;
  connection_->codec().consumed(id_, bytes);
  connection_->wakeWriter();
}

UpstreamHttp2Connection::UpstreamHttp2Connection(asio::io_context& context,
                                                 UpstreamConnectionPtr connection)
    : context_(context),
      connection_(std::move(connection)),
      codec_(*this, http2::ClientLimits{}),
      writerWake_(context),
      idleSince_(Steady::now()) {}

UpstreamHttp2Connection::~UpstreamHttp2Connection() = default;

void UpstreamHttp2Connection::start() {
  asio::co_spawn(context_, run(shared_from_this()), asio::detached);
}

asio::awaitable<void> UpstreamHttp2Connection::run(std::shared_ptr<UpstreamHttp2Connection> self) {
  using namespace asio::experimental::awaitable_operators;
  co_await (self->readLoop() && self->writeLoop());
  self->endAll();
  self->connection_->stream.close();
}

asio::awaitable<void> UpstreamHttp2Connection::readLoop() {
  std::array<char, 16 * 1024> buffer;
  while (!ended_) {
    auto [ec, n] = co_await connection_->stream.readSome(asio::buffer(buffer));
    if (ended_) break;
    if (ec || n == 0 || !codec_.receive({buffer.data(), n})) {
      ended_ = true;
      endAll();
      break;
    }
    wakeWriter();
  }
  writerWake_.cancel();
}

asio::awaitable<void> UpstreamHttp2Connection::writeLoop() {
  std::string out;
  for (;;) {
    writePending_ = false;
    for (;;) {
      const std::span<const char> next = codec_.nextOutput();
      if (next.empty()) break;
      out.assign(next.data(), next.size());  // streams call the codec while the write is pending
      if (failed(co_await connection_->stream.writeAll(asio::buffer(out)))) {
        close();
        co_return;
      }
    }
    if (ended_ || (!codec_.wantsRead() && !codec_.wantsWrite())) break;
    if (!writePending_) {
      writerWake_.expires_at(Steady::time_point::max());
      co_await writerWake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  close();
}

void UpstreamHttp2Connection::wakeWriter() {
  writePending_ = true;
  writerWake_.cancel();
}

void UpstreamHttp2Connection::close() {
  if (!ended_) {
    ended_ = true;
    endAll();
  }
  connection_->stream.cancel();
  writerWake_.cancel();
}

void UpstreamHttp2Connection::endAll() {
  for (auto& [id, stream] : streams_) {
    if (stream->closed_) continue;
    stream->closed_ = true;
    if (!stream->ended_) stream->resetCode_ = kInternalError;
    stream->notify();
  }
}

std::shared_ptr<UpstreamHttp2Stream> UpstreamHttp2Connection::open(const http2::RequestHead& head,
                                                                   bool endStream) {
  if (!usable()) return nullptr;
  const int32_t id = codec_.submitRequest(head, endStream);
  if (id < 0) return nullptr;
  auto stream = std::make_shared<UpstreamHttp2Stream>(shared_from_this(), id, context_);
  streams_[id] = stream.get();
  idleSince_.reset();
  connection_->requests++;
  wakeWriter();
  return stream;
}

void UpstreamHttp2Connection::forget(int32_t stream) {
  streams_.erase(stream);
  if (streams_.empty()) idleSince_ = Steady::now();
}

UpstreamHttp2Stream* UpstreamHttp2Connection::find(int32_t stream) {
  const auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : it->second;
}

void UpstreamHttp2Connection::onResponseHead(int32_t stream, http2::ResponseHead head) {
  if (UpstreamHttp2Stream* s = find(stream)) {
    s->head_ = std::move(head);
    if (s->head_->endStream) s->ended_ = true;
    s->notify();
  }
}

void UpstreamHttp2Connection::onResponseData(int32_t stream, std::span<const char> data) {
  if (UpstreamHttp2Stream* s = find(stream)) {
    s->body_.append(data.data(), data.size());
    s->notify();
  } else {
    codec_.consumed(stream, data.size());
  }
}

void UpstreamHttp2Connection::onResponseEnd(int32_t stream, std::vector<http2::Field> trailers) {
  if (UpstreamHttp2Stream* s = find(stream)) {
    s->ended_ = true;
    s->trailers_ = std::move(trailers);
    s->notify();
  }
}

void UpstreamHttp2Connection::onStreamClosed(int32_t stream, uint32_t errorCode) {
  if (UpstreamHttp2Stream* s = find(stream)) {
    s->closed_ = true;
    if (!s->ended_) s->resetCode_ = errorCode != 0 ? errorCode : kInternalError;
    s->notify();
  }
}

void UpstreamHttp2Connection::onStreamWritable(int32_t stream) {
  if (UpstreamHttp2Stream* s = find(stream)) s->notify();
}

void UpstreamHttp2Connection::onGoAway(int32_t, uint32_t) {
  // No new streams (usable() turns false); the open ones finish or are closed by the codec.
}

}  // namespace meshgate::dp
