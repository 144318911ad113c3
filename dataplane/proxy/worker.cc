// The worker thread: accept loops, snapshot adoption, drain, housekeeping.
#include "dataplane/proxy/worker.h"

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dataplane/proxy/downstream_session.h"
#include "dataplane/proxy/forwarded_head.h"
#include "dataplane/proxy/local_reply.h"
#include "dataplane/proxy/mesh_accept.h"
#include "dataplane/proxy/tcp_proxy_session.h"
#include "dataplane/proxy/tls_passthrough_accept.h"

namespace meshgate::dp {

namespace asio = boost::asio;

namespace {
constexpr size_t kUpstreamBufferBytes = 16 * 1024;
constexpr size_t kSpareBuffers = 64;
constexpr size_t kAccessBatchFlush = 64 * 1024;
}  // namespace

Worker::Worker(size_t index, size_t workerCount, ProxyStats& stats, AccessLog* accessLog)
    : index_(index),
      workerCount_(std::max<size_t>(1, workerCount)),
      stats_(stats),
      accessLog_(accessLog),
      // Every socket of a worker is used on its thread only, so the reactor's per-descriptor
      // locks are pure cost; the scheduler keeps its lock because the main thread posts to it.
      context_(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO),
      work_(context_.get_executor()),
      sweeper_(context_),
      housekeepingTimer_(context_),
      random_(std::random_device{}() ^ (index * 0x9e3779b97f4a7c15ULL)),
      downstreamActive_(stats.downstreamActive.with({})),
      downstreamTotal_(stats.downstreamTotal.with({})),
      rejectedOverCapacity_(stats.downstreamRejected.with({"connection_limit"})),
      activeRequests_(stats.activeRequests.with({})),
      shedBodyBuffer_(stats.requestsShed.with({"body_buffer"})),
      unrouted_(stats.routeCluster("-", "-")) {}

Worker::~Worker() {
  stop();
}

void Worker::start() {
  sweeper_.start();
  housekeeping();
  thread_ = std::thread([this] { context_.run(); });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  asio::post(context_, [this] {
    for (auto& [name, acceptor] : acceptors_) {
      error_code ignored;
      acceptor->close(ignored);
    }
    acceptors_.clear();
    for (auto* session : sessions_)
      session->abort();
    for (auto* session : tcpSessions_)
      session->abort();
    sweeper_.stop();
    pool_.clear();
    http2Pool_.clear();
    // Give the aborted sessions a moment to unwind, then stop; frames still suspended are
    // destroyed with the io_context.
    housekeepingTimer_.expires_after(std::chrono::milliseconds(200));
    housekeepingTimer_.async_wait([this](const error_code&) { context_.stop(); });
  });
  work_.reset();
  thread_.join();
}

void Worker::adopt(SnapshotPtr snapshot) {
  auto view = std::make_shared<WorkerView>(std::move(snapshot), random_());
  if (!thread_.joinable()) {
    view_ = std::move(view);
    return;
  }
  asio::post(context_, [this, view = std::move(view)]() mutable { view_ = std::move(view); });
}

void Worker::addListener(const std::string& name, std::shared_ptr<tcp::acceptor> acceptor) {
  asio::post(context_, [this, name, acceptor] {
    acceptors_[name] = acceptor;
    asio::co_spawn(context_, acceptLoop(acceptor, name), asio::detached);
  });
}

void Worker::removeListener(const std::string& name) {
  asio::post(context_, [this, name] {
    auto found = acceptors_.find(name);
    if (found == acceptors_.end()) return;
    error_code ignored;
    found->second->close(ignored);
    acceptors_.erase(found);
  });
}

void Worker::beginDrain() {
  asio::post(context_, [this] {
    draining_ = true;
    for (auto& [name, acceptor] : acceptors_) {
      error_code ignored;
      acceptor->close(ignored);
    }
    acceptors_.clear();
    for (auto* session : sessions_)
      session->closeWhenIdle();
  });
}

asio::awaitable<void> Worker::acceptLoop(std::shared_ptr<tcp::acceptor> acceptor,
                                         std::string name) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor->is_open() || ec == asio::error::operation_aborted) co_return;
      // Out of descriptors or memory: back off briefly instead of spinning.
      spdlog::warn("worker {}: accept on {}: {}", index_, name, ec.message());
      asio::steady_timer pause(context_, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (draining_) continue;  // the socket closes as it goes out of scope
    const ListenerRuntime* listener = view_->snapshot().listener(name);
    if (!listener) continue;
    // This worker's share of the proxy-wide cap, rounded up.
    const size_t cap =
        (view_->snapshot().config().limits.maxConnections + workerCount_ - 1) / workerCount_;
    if (openConnections_.load(std::memory_order_relaxed) >= cap) {
      rejectOverCapacity(socket, listener->tls == nullptr && !listener->tcpTarget &&
                                     listener->passthrough.empty());
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const tcp::endpoint peer = socket.remote_endpoint(ignored);
    if (listener->config.role != api::ListenerRole::kGateway) {
      auto original = originalDestination_(socket);
      asio::co_spawn(context_,
                     acceptMeshConnection(*this, std::move(socket), listener->config.role, name,
                                          peer, std::move(original)),
                     asio::detached);
      continue;
    }
    if (!listener->passthrough.empty()) {
      asio::co_spawn(context_, acceptTlsPassthrough(*this, std::move(socket), name, peer),
                     asio::detached);
      continue;
    }
    if (listener->tcpTarget) {
      auto session =
          std::make_unique<TcpProxySession>(*this, view_, *listener->tcpTarget, std::move(socket));
      asio::co_spawn(context_, TcpProxySession::serve(std::move(session)), asio::detached);
      continue;
    }
    ByteStream stream = listener->tls ? ByteStream(std::move(socket), listener->tls->context())
                                      : ByteStream(std::move(socket));
    auto session = std::make_unique<DownstreamSession>(*this, std::move(stream), name, peer);
    asio::co_spawn(context_, DownstreamSession::serve(std::move(session)), asio::detached);
  }
}

bool Worker::reserveBodyBuffer(uint64_t bytes) {
  const LimitsConfig& limits = view_->snapshot().config().limits;
  const uint64_t share = std::max<uint64_t>(
      (limits.maxBufferedBodyBytes + workerCount_ - 1) / workerCount_, limits.maxRetryBufferBytes);
  if (bufferedBodyBytes_ + bytes > share) {
    shedBodyBuffer_.inc();
    return false;
  }
  bufferedBodyBytes_ += bytes;
  return true;
}

void Worker::rejectOverCapacity(tcp::socket& socket, bool plainHttp) {
  rejectedOverCapacity_.inc();
  // Nothing waits on this socket: what the client already sent is read and dropped (closing with
  // unread bytes would reset the connection before it reads the answer), a plain HTTP client gets
  // the 503 (a TLS client only the close: a handshake costs more than the connection it sheds; a
  // TCP listener's client speaks no HTTP), then FIN. One non-blocking attempt each; a client too
  // slow for that sees the close alone.
  error_code ec;
  socket.non_blocking(true, ec);
  std::array<char, 4096> sink;
  for (int i = 0; i < 16 && !ec; ++i)
    socket.read_some(asio::buffer(sink), ec);
  if (plainHttp) {
    static const std::string response = [] {
      std::string out;
      formatLocalReply(out, 503, "over capacity: too many connections\n", "retry-after: 1\r\n",
                       /*keepAlive=*/false, /*announceOnly=*/false);
      return out;
    }();
    socket.write_some(asio::buffer(response), ec);
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

void Worker::sessionStarted(DownstreamSession* session) {
  sessions_.insert(session);
  sweeper_.add(*session);
  openConnections_++;
  downstreamActive_.inc();
  downstreamTotal_.inc();
  if (draining_) session->closeWhenIdle();
}

void Worker::sessionEnded(DownstreamSession* session) {
  sessions_.erase(session);
  openConnections_--;
  downstreamActive_.dec();
}

void Worker::tcpSessionStarted(TcpProxySession* session) {
  tcpSessions_.insert(session);
  openConnections_++;
  downstreamActive_.inc();
  downstreamTotal_.inc();
}

void Worker::tcpSessionEnded(TcpProxySession* session) {
  tcpSessions_.erase(session);
  openConnections_--;
  downstreamActive_.dec();
}

void Worker::countBadRequest(std::string_view reason) {
  stats_.badRequests.with({std::string(reason)}).inc();
}

void Worker::countUnrouted(unsigned status) {
  unrouted_.count(status);
}

void Worker::newRequestId(std::string& out) {
  formatRequestId(out, random_(), random_());
}

void Worker::logAccess(const AccessRecord& record) {
  formatAccessRecord(accessBatch_, record);
  if (accessBatch_.size() >= kAccessBatchFlush) accessLog_->submit(accessBatch_);
}

ReadBuffer Worker::takeBuffer() {
  if (spareBuffers_.empty()) return ReadBuffer(kUpstreamBufferBytes);
  ReadBuffer buffer = std::move(spareBuffers_.back());
  spareBuffers_.pop_back();
  return buffer;
}

void Worker::giveBuffer(ReadBuffer buffer) {
  if (spareBuffers_.size() >= kSpareBuffers) return;
  if (buffer.size() != kUpstreamBufferBytes) {
    buffer.resize(kUpstreamBufferBytes);
    buffer.shrink_to_fit();
  }
  spareBuffers_.push_back(std::move(buffer));
}

std::string Worker::takeString() {
  if (spareStrings_.empty()) return {};
  std::string text = std::move(spareStrings_.back());
  spareStrings_.pop_back();
  return text;
}

void Worker::giveString(std::string text) {
  if (spareStrings_.size() >= 4 * kSpareBuffers || text.capacity() > 64 * 1024) return;
  text.clear();
  spareStrings_.push_back(std::move(text));
}

void Worker::housekeeping() {
  housekeepingTimer_.expires_after(std::chrono::milliseconds(100));
  housekeepingTimer_.async_wait([this](const error_code& ec) {
    if (ec) return;
    pool_.prune();
    http2Pool_.prune();
    if (accessLog_) accessLog_->submit(accessBatch_);
    housekeeping();
  });
}

}  // namespace meshgate::dp
