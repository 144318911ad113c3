// UpstreamPool: one worker's idle keep-alive connections to upstream endpoints, keyed by endpoint
// and how it was secured (UpstreamEndpoint::poolKey: "127.0.0.2:9000", "…+tls:<serverName>,<CA>",
// "…+mtls:<SPIFFE ID>"). A connection is taken for one request and
// given back only when its response ended cleanly with keep-alive. Before reuse, a non-blocking
// MSG_PEEK tells whether the server closed it (or sent something unsolicited) while it sat idle;
// such a connection is dropped instead of failing a request. The check costs a system call and is
// never skipped: bytes an upstream sent after a response (a wrong Content-Length, a late 408)
// would otherwise be read as the answer to the next request, which may be another client's. Idle
// connections beyond the per-endpoint cap, or older than the idle timeout, are closed. Used only on
// its worker's thread.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "dataplane/proxy/byte_stream.h"
#include "dataplane/upstream/circuit_breaker.h"
#include "metrics/gauge.h"

namespace meshgate::dp {

struct UpstreamConnection {
  ByteStream stream;
  std::shared_ptr<const void> keepAlive;  // keeps the breaker's snapshot alive
  // Declared after keepAlive, so destroyed first: the slot returns to a breaker still alive.
  std::optional<CircuitBreaker::Slot> connectionSlot;  // held for the connection's life
  metrics::Gauge* active = nullptr;                    // the cluster's open-connections gauge
  std::chrono::steady_clock::time_point idleUntil{};
  uint32_t requests = 0;

  UpstreamConnection(ByteStream s) : stream(std::move(s)) {}
  ~UpstreamConnection() {
    if (active) active->dec();
  }
  UpstreamConnection(UpstreamConnection&&) = delete;
};
using UpstreamConnectionPtr = std::unique_ptr<UpstreamConnection>;

class UpstreamPool {
 public:
  // A live idle connection to `key`, or null.
  UpstreamConnectionPtr take(const std::string& key);
  // Keeps `connection` for reuse unless the endpoint already has maxIdle idle connections.
  void give(const std::string& key, UpstreamConnectionPtr connection, uint32_t maxIdle,
            std::chrono::milliseconds idleTimeout);
  // Closes connections idle for longer than their cluster's idle timeout.
  void prune();
  void clear() { idle_.clear(); }
  size_t idleCount() const;

 private:
  std::unordered_map<std::string, std::deque<UpstreamConnectionPtr>> idle_;
};

}  // namespace meshgate::dp
