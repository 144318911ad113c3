// Probe loops of the active health checks.
#include "dataplane/proxy/health_checker.h"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/duration.h"
#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/alpn.h"
#include "dataplane/proxy/byte_stream.h"
#include "dataplane/proxy/http2_health_probe.h"

namespace meshgate::dp {

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

using api::durationOr;

}  // namespace

void HealthChecker::watch(SnapshotPtr snapshot) {
  const uint64_t generation = ++generation_;
  for (size_t c = 0; c < snapshot->clusters().size(); ++c) {
    const Cluster& cluster = snapshot->clusters()[c];
    for (size_t e = 0; e < cluster.endpoints.size(); ++e) {
      EndpointHealth& health = *cluster.endpoints[e].health;
      if (!cluster.config->healthCheck) {
        // Checks removed by a reload: nothing says the endpoint is down any more.
        health.checks.reset();
        health.healthy.store(true);
        continue;
      }
      const auto& check = *cluster.config->healthCheck;
      const auto healthy = static_cast<uint32_t>(check.healthyThreshold.value_or(2));
      const auto unhealthy = static_cast<uint32_t>(check.unhealthyThreshold.value_or(3));
      if (!health.checks) health.checks.emplace(healthy, unhealthy);
      asio::co_spawn(context_, probeLoop(snapshot, c, e, generation), asio::detached);
    }
  }
}

asio::awaitable<void> HealthChecker::probeLoop(SnapshotPtr snapshot, size_t clusterIndex,
                                               size_t endpointIndex, uint64_t generation) {
  const Cluster& cluster = snapshot->clusters()[clusterIndex];
  const UpstreamEndpoint& endpoint = cluster.endpoints[endpointIndex];
  const api::HealthCheck& check = *cluster.config->healthCheck;
  const auto interval = durationOr(check.interval, std::chrono::seconds(10));
  asio::steady_timer timer(context_);
  while (generation == generation_) {
    const bool ok = co_await probeOnce(cluster, endpoint, check);
    if (generation != generation_) break;
    EndpointHealth& health = *endpoint.health;
    if (health.checks) {
      switch (health.checks->record(ok)) {
        case HealthState::Transition::BecameHealthy:
          spdlog::info("health: {} {} is healthy", cluster.name, endpoint.key);
          health.healthy.store(true);
          break;
        case HealthState::Transition::BecameUnhealthy:
          spdlog::warn("health: {} {} is unhealthy", cluster.name, endpoint.key);
          health.healthy.store(false);
          break;
        case HealthState::Transition::None:
          break;
      }
    }
    timer.expires_after(interval);
    co_await timer.async_wait(kNoThrow);
  }
}

asio::awaitable<bool> HealthChecker::probeOnce(const Cluster& cluster,
                                               const UpstreamEndpoint& endpoint,
                                               const api::HealthCheck& check) {
  using namespace asio::experimental::awaitable_operators;
  const auto timeout = durationOr(check.timeout, std::chrono::seconds(1));
  tcp::socket socket(context_);
  auto probe = [&]() -> asio::awaitable<bool> {
    auto [connectError] = co_await socket.async_connect(endpoint.address, kNoThrow);
    if (connectError) co_return false;
    ByteStream stream =
        cluster.tls ? ByteStream(std::move(socket), *cluster.tls) : ByteStream(std::move(socket));
    if (cluster.tls && cluster.http2)
      SSL_set_alpn_protos(stream.nativeTls(), kAlpnHttp2, sizeof kAlpnHttp2);
    if (cluster.tls && co_await stream.handshakeAsClient(cluster.config->tls->serverName))
      co_return false;
    if (cluster.http2) {
      if (cluster.tls && !negotiatedHttp2(stream.nativeTls())) co_return false;
      co_return co_await probeOverHttp2(stream, cluster.name, check.path, cluster.tls != nullptr);
    }
    const std::string request =
        "GET " + check.path + " HTTP/1.1\r\nhost: " + cluster.name +
        "\r\nuser-agent: meshgate-health-check\r\nconnection: close\r\n\r\n";
    if (failed(co_await stream.writeAll(asio::buffer(request)))) co_return false;
    std::string buffer(4096, '\0');
    size_t used = 0;
    http::ResponseHead head;
    for (;;) {
      auto [readError, n] =
          co_await stream.readSome(asio::buffer(buffer.data() + used, buffer.size() - used));
      if (readError || n == 0) co_return false;
      used += n;
      const auto status = http::parseResponseHead({buffer.data(), used}, "GET", {}, head);
      if (status == http::ParseStatus::Complete) co_return head.status >= 200 && head.status < 300;
      if (status != http::ParseStatus::NeedMore || used == buffer.size()) co_return false;
    }
  };
  asio::steady_timer deadline(context_);
  deadline.expires_after(timeout);
  auto result = co_await (probe() || deadline.async_wait(kNoThrow));
  co_return result.index() == 0 && std::get<0>(result);
}

}  // namespace meshgate::dp
