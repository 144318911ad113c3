// A TCP listener's connection: endpoint choice, connect with retries, relay.
#include "dataplane/proxy/tcp_proxy_session.h"

#include <algorithm>
#include <vector>

#include "dataplane/proxy/tcp_relay.h"
#include "dataplane/proxy/worker.h"
#include "dataplane/upstream/ring_hash.h"

namespace meshgate::dp {

namespace {

// Connect tries per connection, at most (fewer when the cluster has fewer endpoints).
constexpr size_t kMaxConnectAttempts = 3;

}  // namespace

TcpProxySession::TcpProxySession(Worker& worker, WorkerViewPtr view, size_t target,
                                 tcp::socket client)
    : worker_(worker),
      view_(std::move(view)),
      target_(view_->snapshot().tcpTargets()[target]),
      cluster_(view_->snapshot().clusters()[target_.rule.backends[0].cluster]),
      client_(std::move(client)),
      upstream_(client_.get_executor()) {
  if (cluster_.hashSource == HashSource::SourceIP) {
    error_code ec;
    const tcp::endpoint peer = client_.remote_endpoint(ec);
    if (!ec) hash_ = RingHash::hashKey(peer.address().to_string());
  }
  worker_.tcpSessionStarted(this);
}

TcpProxySession::~TcpProxySession() {
  worker_.tcpSessionEnded(this);
}

asio::awaitable<void> TcpProxySession::serve(std::unique_ptr<TcpProxySession> session) {
  co_await session->run();
  error_code ignored;
  session->client_.close(ignored);
  session->upstream_.close(ignored);
}

void TcpProxySession::abort() {
  aborted_ = true;
  error_code ignored;
  client_.close(ignored);
  upstream_.close(ignored);
}

asio::awaitable<void> TcpProxySession::run() {
  // A cluster that wants TLS (validation refuses it for TCP listeners; a mesh expansion could set
  // it) is never sent plaintext.
  if (cluster_.tls) {
    target_.counters.connectFailed->inc();
    co_return;
  }
  auto connectionSlot = cluster_.breaker->tryAcquire(CircuitBreaker::Resource::Connections);
  if (!connectionSlot) {
    cluster_.overflow[static_cast<size_t>(CircuitBreaker::Resource::Connections)]->inc();
    target_.counters.overflow->inc();
    co_return;
  }
  const std::optional<size_t> endpoint = co_await connect();
  if (!endpoint) co_return;
  target_.counters.proxied->inc();
  cluster_.connectionsOpened->inc();
  cluster_.connectionsActive->inc();
  const size_t clusterIndex = target_.rule.backends[0].cluster;
  view_->started(clusterIndex, *endpoint);
  co_await relayConnected(client_, upstream_, target_.idleTimeout,
                          {.downstreamToUpstream = target_.counters.bytesToUpstream,
                           .upstreamToDownstream = target_.counters.bytesToDownstream});
  view_->finished(clusterIndex, *endpoint);
  cluster_.connectionsActive->dec();
}

asio::awaitable<std::optional<size_t>> TcpProxySession::connect() {
  const CompiledRule& rule = target_.rule;
  const size_t members = rule.backends[0].members.size();
  if (members == 0) {
    target_.counters.noEndpoint->inc();
    co_return std::nullopt;
  }
  const size_t attempts = std::min(kMaxConnectAttempts, members);
  std::vector<size_t> failed;
  std::optional<size_t> lastFailed;
  for (size_t attempt = 0; attempt < attempts && !aborted_; ++attempt) {
    // pickEndpoint excludes only the last failure: ask again (the balancer moves on) until an
    // endpoint not yet tried comes up.
    std::optional<size_t> endpoint;
    for (size_t pick = 0; pick <= members && !endpoint; ++pick) {
      endpoint = view_->pickEndpoint(rule, 0, hash_, lastFailed);
      if (endpoint && std::find(failed.begin(), failed.end(), *endpoint) != failed.end())
        endpoint.reset();
    }
    if (!endpoint) break;
    const error_code ec = co_await connectTcp(upstream_, cluster_.endpoints[*endpoint].address,
                                              cluster_.config->connectTimeout);
    if (aborted_) co_return std::nullopt;
    if (!ec) {
      if (cluster_.outliers) cluster_.outliers->reportSuccess(*endpoint);
      co_return endpoint;
    }
    cluster_.connectErrors->inc();
    if (cluster_.outliers) cluster_.outliers->reportError(*endpoint);
    failed.push_back(*endpoint);
    lastFailed = endpoint;
  }
  if (!aborted_) target_.counters.connectFailed->inc();
  co_return std::nullopt;
}

}  // namespace meshgate::dp
