// TcpProxySession: one client connection relayed to a TcpTarget (snapshot.h) — a gateway's TCP
// listener (listeners[].tcp) or, in a sidecar, a captured connection to a MeshService's TCP port —
// from accept to close. It picks an endpoint of the target's cluster as a route's request would
// (WorkerView::pickEndpoint: balancing, health, outlier ejection, panic mode), takes a slot of the
// cluster's maxConnections, connects within its connectTimeout — a failed connect is a connect
// error of the cluster and an outlier report against the endpoint, and the next try goes to
// another endpoint (at most 3 tries, or as many as the cluster has endpoints) — then relays bytes
// both ways with the target's idle timeout, counting them. A cluster of mesh workloads (its
// peerIdentity set) is called over mTLS with the workload certificate, and an endpoint that does
// not present that SPIFFE ID within the connect timeout is a connect failure too; such a cluster
// is never called in plaintext (no workload identity: the connection is closed). The Worker counts
// it as an open downstream connection and, at shutdown (the drain deadline), aborts it. Lives in
// its coroutine; used only on its worker's thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "dataplane/proxy/byte_stream.h"
#include "dataplane/proxy/worker_view.h"

namespace meshgate::dp {

class Worker;

class TcpProxySession {
 public:
  // `target`: an index into view's snapshot's tcpTargets().
  TcpProxySession(Worker& worker, WorkerViewPtr view, size_t target,
                  boost::asio::ip::tcp::socket client);
  ~TcpProxySession();
  TcpProxySession(const TcpProxySession&) = delete;
  TcpProxySession& operator=(const TcpProxySession&) = delete;

  // Proxies the connection until it closes; owns the session.
  static boost::asio::awaitable<void> serve(std::unique_ptr<TcpProxySession> session);

  // Shutdown: closes both sides now; serve() then returns.
  void abort();

 private:
  boost::asio::awaitable<void> run();
  // Connects upstream_ to an endpoint of the target, trying others after a failure; the endpoint
  // connected to, or nullopt with the result counted.
  boost::asio::awaitable<std::optional<size_t>> connect();
  // Mesh clusters: the mTLS handshake on the connected upstream_ (moved into secureUpstream_),
  // within the connect timeout, and the endpoint's SPIFFE ID checked. False: closed.
  boost::asio::awaitable<bool> secure();
  void closeAll();

  Worker& worker_;
  WorkerViewPtr view_;  // the snapshot and balancers the connection started with
  const TcpTarget& target_;
  const Cluster& cluster_;
  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket upstream_;
  // Mesh clusters: the client's plain stream and the mTLS one (from upstream_) once connected.
  std::optional<ByteStream> secureClient_;
  std::optional<ByteStream> secureUpstream_;
  RequestHash hash_;  // the client's address, for a RingHash cluster hashing on sourceIP
  bool aborted_ = false;
};

}  // namespace meshgate::dp
