// Worker: one thread with its own io_context, its own SO_REUSEPORT acceptor per listener (the
// kernel spreads new connections across workers), its own upstream pool and balancer state, and
// its own pointer to the current snapshot — replaced by adopt(), which posts to the worker, so the
// request path takes no lock. The ProxyServer owns the workers and calls their public methods
// from the main thread; everything else runs on the worker's thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "dataplane/proxy/access_log.h"
#include "dataplane/proxy/deadline_sweeper.h"
#include "dataplane/proxy/original_destination.h"
#include "dataplane/proxy/proxy_stats.h"
#include "dataplane/proxy/read_buffer.h"
#include "dataplane/proxy/upstream_http2_pool.h"
#include "dataplane/proxy/upstream_pool.h"
#include "dataplane/proxy/worker_view.h"

namespace meshgate::dp {

class DownstreamSession;
class TcpProxySession;

class Worker {
 public:
  // `workerCount`: how many workers share limits.maxConnections (each takes its share).
  Worker(size_t index, size_t workerCount, ProxyStats& stats, AccessLog* accessLog);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  boost::asio::io_context& context() { return context_; }
  size_t index() const { return index_; }

  // Main thread. start() runs the thread; the first snapshot must be adopted before.
  void setAccessLog(AccessLog* log) { accessLog_ = log; }
  // How mesh listeners learn a connection's original destination (tests substitute it).
  void setOriginalDestinationLookup(OriginalDestinationLookup lookup) {
    originalDestination_ = std::move(lookup);
  }
  void start();
  void adopt(SnapshotPtr snapshot);
  // `acceptor` is bound and listening, created on context(); the worker accepts on it.
  void addListener(const std::string& name, std::shared_ptr<tcp::acceptor> acceptor);
  void removeListener(const std::string& name);
  // Stop accepting, close idle connections, close the others after their current response. TCP
  // listeners' connections carry on until stop() (the drain deadline) closes them.
  void beginDrain();
  size_t openConnections() const { return openConnections_.load(); }
  // Ends the thread; connections still open are closed.
  void stop();

  // Worker thread.
  const WorkerViewPtr& view() const { return view_; }
  UpstreamPool& pool() { return pool_; }
  Http2UpstreamPool& http2Pool() { return http2Pool_; }
  DeadlineSweeper& sweeper() { return sweeper_; }
  ProxyStats& stats() { return stats_; }
  // Requests between head and response end (ActiveRequest).
  void requestStarted() { activeRequests_.inc(); }
  void requestEnded() { activeRequests_.dec(); }
  // Request bodies buffered for replay: this worker's share of limits.maxBufferedBodyBytes (at
  // least one body of maxRetryBufferBytes). False, counted as shed, when `bytes` do not fit.
  bool reserveBodyBuffer(uint64_t bytes);
  void releaseBodyBuffer(uint64_t bytes) { bufferedBodyBytes_ -= bytes; }
  uint64_t bufferedBodyBytes() const { return bufferedBodyBytes_; }
  void sessionStarted(DownstreamSession* session);
  void sessionEnded(DownstreamSession* session);
  // TCP listeners' connections: open downstream connections too (limits.maxConnections).
  void tcpSessionStarted(TcpProxySession* session);
  void tcpSessionEnded(TcpProxySession* session);
  void countBadRequest(std::string_view reason);
  void countUnrouted(unsigned status);
  void newRequestId(std::string& out);  // replaces out's contents, reusing its capacity
  bool accessLogEnabled() const {
    return accessLog_ != nullptr && view_ && view_->snapshot().config().accessLog.enabled;
  }
  void logAccess(const AccessRecord& record);
  ReadBuffer takeBuffer();
  void giveBuffer(ReadBuffer buffer);
  // Strings a request builds heads in, lent for the request's duration so that idle keep-alive
  // connections hold no such memory (10,000 idle clients cost ~0.6 MiB less per 1,000).
  std::string takeString();
  void giveString(std::string text);

 private:
  boost::asio::awaitable<void> acceptLoop(std::shared_ptr<tcp::acceptor> acceptor,
                                          std::string name);
  void housekeeping();

  // Sheds a connection accepted beyond this worker's share of limits.maxConnections; a plain HTTP
  // client is answered 503 first.
  void rejectOverCapacity(tcp::socket& socket, bool plainHttp);

  const size_t index_;
  const size_t workerCount_;
  ProxyStats& stats_;
  AccessLog* accessLog_;
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  DeadlineSweeper sweeper_;
  boost::asio::steady_timer housekeepingTimer_;
  UpstreamPool pool_;
  Http2UpstreamPool http2Pool_;
  WorkerViewPtr view_;
  std::mt19937_64 random_;
  std::map<std::string, std::shared_ptr<tcp::acceptor>> acceptors_;
  std::unordered_set<DownstreamSession*> sessions_;
  std::unordered_set<TcpProxySession*> tcpSessions_;
  std::atomic<size_t> openConnections_{0};
  bool draining_ = false;
  std::vector<ReadBuffer> spareBuffers_;
  std::vector<std::string> spareStrings_;
  std::string accessBatch_;
  metrics::Gauge& downstreamActive_;
  metrics::Counter& downstreamTotal_;
  metrics::Counter& rejectedOverCapacity_;
  metrics::Gauge& activeRequests_;
  uint64_t bufferedBodyBytes_ = 0;
  metrics::Counter& shedBodyBuffer_;
  RouteClusterCounters unrouted_;  // requests no route took
  OriginalDestinationLookup originalDestination_ = netfilterOriginalDestination;
};

// Counts a request in flight for its lifetime.
class ActiveRequest {
 public:
  explicit ActiveRequest(Worker& worker) : worker_(&worker) { worker_->requestStarted(); }
  ~ActiveRequest() { worker_->requestEnded(); }
  ActiveRequest(const ActiveRequest&) = delete;
  ActiveRequest& operator=(const ActiveRequest&) = delete;

 private:
  Worker* worker_;
};

// Body bytes reserved in the worker's buffered-body budget for one request, given back with it.
class BodyBufferLease {
 public:
  explicit BodyBufferLease(Worker& worker) : worker_(worker) {}
  ~BodyBufferLease() {
    if (bytes_ > 0) worker_.releaseBodyBuffer(bytes_);
  }
  BodyBufferLease(const BodyBufferLease&) = delete;
  BodyBufferLease& operator=(const BodyBufferLease&) = delete;

  bool reserve(uint64_t bytes) {
    if (!worker_.reserveBodyBuffer(bytes)) return false;
    bytes_ += bytes;
    return true;
  }

 private:
  Worker& worker_;
  uint64_t bytes_ = 0;
};

// A read buffer borrowed from the worker for one upstream attempt.
class PooledBuffer {
 public:
  explicit PooledBuffer(Worker& worker) : worker_(worker), bytes(worker.takeBuffer()) {}
  ~PooledBuffer() { worker_.giveBuffer(std::move(bytes)); }
  PooledBuffer(const PooledBuffer&) = delete;
  PooledBuffer& operator=(const PooledBuffer&) = delete;

 private:
  Worker& worker_;

 public:
  ReadBuffer bytes;
};

}  // namespace meshgate::dp
