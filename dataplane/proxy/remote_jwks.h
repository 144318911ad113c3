// RemoteJwks: the JwksSource of a JWT rule whose keys live at an issuer's https `uri` (its
// jwks_uri). The proxy's main thread fetches the set with Boost.Beast at start(), then every
// refreshInterval, and once soon after a worker reports a kid the set lacks (unknownKeyId(),
// rate-limited); a failed fetch keeps the last good set and retries with backoff. Workers read
// current() for every token the verified-token cache has not seen.
//
// Threading: fetching, timers and logging run on `context`'s thread only. current(),
// unknownKeyId(), uri(), fetches(), start() and stop() may be called from any thread. The fetch
// loop holds a reference to the object until stop(): whoever creates one must call stop().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/expected.h"
#include "dataplane/auth/jwk_set.h"
#include "dataplane/proxy/jwks_source.h"
#include "metrics/metric_family.h"

namespace meshgate::dp {

struct RemoteJwksSettings {
  std::chrono::milliseconds refreshInterval{300'000};
  // The whole fetch: resolve, connect, TLS handshake, request and response.
  std::chrono::milliseconds fetchTimeout{5'000};
  // unknownKeyId() refetches at most this often, so tokens with made-up kids cannot make the
  // proxy hammer the issuer.
  std::chrono::milliseconds minRefetchGap{10'000};
};

/**
 * Fetches `uri` (https only) on `context`'s thread: at start(), then every refreshInterval, and
 * once soon after unknownKeyId() (at most every minRefetchGap). A failed fetch — resolve, connect
 * or TLS failure (the server certificate is verified against `tls`'s trust, the host name against
 * its SAN only), an HTTP status other than 200, a body over 1 MiB, a JWKS that does not parse —
 * keeps the last good set, logs one warning (uri and reason, never key material) and retries with
 * backoff (1 s doubling, capped at refreshInterval). Each fetch counts in `fetches`
 * {uri, "ok"|"error"}; `fetches` may be null.
 */
class RemoteJwks final : public JwksSource, public std::enable_shared_from_this<RemoteJwks> {
 public:
  static constexpr std::uint64_t kMaxBodyBytes = 1024 * 1024;

  // A null `tls` means a client context that trusts the system's default roots.
  RemoteJwks(boost::asio::io_context& context, std::string uri, RemoteJwksSettings settings,
             metrics::CounterFamily* fetches,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~RemoteJwks() override;
  RemoteJwks(const RemoteJwks&) = delete;
  RemoteJwks& operator=(const RemoteJwks&) = delete;

  // Starts the fetch loop (first fetch now). Idempotent; nothing after stop(). The object must be
  // owned by a shared_ptr.
  void start();
  // Cancels the timers and any fetch in flight. Once it returns, no fetch completes, current() no
  // longer changes, nothing is counted or logged; the loop then lets go of the object.
  void stop();

  // JwksSource
  std::shared_ptr<const auth::JwkSet> current() const override;
  void unknownKeyId() const override;

  const std::string& uri() const { return uri_; }
  // Completed fetch attempts, good or failed.
  std::uint64_t fetches() const { return fetchCount_.load(std::memory_order_acquire); }

 private:
  struct Target;
  struct Fetch;
  using FetchResult = Expected<std::shared_ptr<const auth::JwkSet>, std::string>;

  // `self` keeps the object alive until the loop ends (after stop()).
  boost::asio::awaitable<void> run(std::shared_ptr<RemoteJwks> self);
  boost::asio::awaitable<FetchResult> fetchOnce(std::shared_ptr<Fetch> fetch);
  // Publishes one fetch's outcome; false once stopped (the loop then ends).
  bool record(const FetchResult& result);
  void refetchSoon();
  void cancelAll();

  boost::asio::io_context& context_;
  const std::string uri_;
  const RemoteJwksSettings settings_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<const Target> target_;  // null when `uri` is not a usable https URI
  std::string uriError_;
  metrics::Counter* okCount_ = nullptr;
  metrics::Counter* errorCount_ = nullptr;

  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<std::uint64_t> fetchCount_{0};
  // steady_clock nanoseconds of the last refetch unknownKeyId() asked for.
  mutable std::atomic<std::int64_t> lastOnDemand_;

  // Held while a fetch's outcome is published and by stop(), so that nothing is published after
  // stop() returns.
  std::mutex publishMutex_;
  mutable std::mutex keysMutex_;
  std::shared_ptr<const auth::JwkSet> keys_;

  // The context thread's own state.
  boost::asio::steady_timer wake_;  // the wait before the next fetch
  std::shared_ptr<Fetch> inFlight_;
  bool refetchAfterThis_ = false;  // unknownKeyId() came while a fetch was in flight
};

using RemoteJwksSharedPtr = std::shared_ptr<RemoteJwks>;

}  // namespace meshgate::dp
