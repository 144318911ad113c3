// A TCP target's connection: endpoint choice, connect with retries, mesh mTLS, relay.
#include "dataplane/proxy/tcp_proxy_session.h"

#include <algorithm>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "dataplane/proxy/mesh_tls.h"
#include "dataplane/proxy/stream_relay.h"
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
  session->closeAll();
}

void TcpProxySession::abort() {
  aborted_ = true;
  closeAll();
}

void TcpProxySession::closeAll() {
  error_code ignored;
  client_.close(ignored);
  upstream_.close(ignored);
  if (secureClient_) secureClient_->close();
  if (secureUpstream_) secureUpstream_->close();
}

asio::awaitable<void> TcpProxySession::run() {
  // A cluster that wants TLS is never sent plaintext: upstream TLS of its own (validation refuses
  // it for TCP listeners), or mesh workloads while this proxy has no workload identity.
  const bool mesh = !cluster_.peerIdentity.empty();
  if (mesh ? cluster_.tls == nullptr : cluster_.tls != nullptr) {
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
  const TcpRelayCounters counters{.downstreamToUpstream = target_.counters.bytesToUpstream,
                                  .upstreamToDownstream = target_.counters.bytesToDownstream};
  if (secureUpstream_) {
    secureClient_.emplace(std::move(client_));
    co_await relayStreams(*secureClient_, *secureUpstream_, target_.idleTimeout, counters);
  } else {
    co_await relayConnected(client_, upstream_, target_.idleTimeout, counters);
  }
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
    const bool secured = !ec && (cluster_.peerIdentity.empty() || co_await secure());
    if (aborted_) co_return std::nullopt;
    if (secured) {
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

asio::awaitable<bool> TcpProxySession::secure() {
  using namespace asio::experimental::awaitable_operators;
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  secureUpstream_.emplace(std::move(upstream_), *cluster_.tls);
  upstream_ = tcp::socket(client_.get_executor());  // fresh, for the next try
  asio::steady_timer timer(client_.get_executor());
  timer.expires_after(cluster_.config->connectTimeout);
  auto outcome = co_await (secureUpstream_->handshakeAsMeshClient() || timer.async_wait(kNoThrow));
  const bool handshaken = outcome.index() == 0 && !std::get<0>(outcome);
  if (handshaken && peerSpiffeId(secureUpstream_->nativeTls()) == cluster_.peerIdentity)
    co_return true;
  if (handshaken)
    spdlog::warn("tcp {}: endpoint does not present {}: refused", target_.name,
                 cluster_.peerIdentity);
  secureUpstream_->close();
  secureUpstream_.reset();
  co_return false;
}

}  // namespace meshgate::dp
