// ConfigStreamClient: a gateway's end of the operator's config stream
// (api/config_stream_protocol.h, docs/CONFIG_STREAM.md) — a WebSocket over mutually authenticated
// TLS to the operator's `https://HOST:15012`. It connects, says Hello, hands every Snapshot frame
// (and every Delta, applied to the config the connection delivered last; a delta that does not
// fit is a protocol error that reconnects, and a new connection starts with a whole Snapshot)
// to the ProxyServer's apply callback and answers Ack or Nack, one frame at a time and in order; on
// any failure or close it reconnects with jittered exponential backoff. The certificate directory
// (a kubernetes.io/tls Secret plus ca.crt) is read again at every attempt, so a renewed certificate
// is used without a restart. The server is verified against `DIR/ca.crt` only and by SAN only.
//
// Threading: create(), start(), stop() and the callbacks run on the io_context it is given (the
// ProxyServer's main thread); status() may be called from any thread (the admin thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "api/config_stream_protocol.h"
#include "base/expected.h"

namespace meshgate::dp {

// Where the operator's config stream is, from --control-plane.
struct ControlPlaneEndpoint {
  std::string url;   // as given
  std::string host;  // a DNS name or an IP literal (IPv6 without brackets)
  std::uint16_t port = api::stream::kDefaultPort;
  bool hostIsIpAddress = false;
  // "host:port", "[::1]:port": the Host header of the upgrade request.
  std::string authority() const;
};

// https://HOST[:PORT] with nothing else (no user info, path, query or fragment); the default port
// is 15012. The error is one line naming what is wrong.
Expected<ControlPlaneEndpoint, std::string> parseControlPlaneUrl(std::string_view url);

// Full-jitter backoff: the delay before a retry is drawn from [0, ceiling], where the ceiling after
// `attempt` consecutive failures (0: the first) is min(cap, base × 2^attempt).
std::chrono::milliseconds backoffCeiling(unsigned attempt, std::chrono::milliseconds base,
                                         std::chrono::milliseconds cap);

struct ConfigStreamClientOptions {
  ControlPlaneEndpoint endpoint;
  // Holds ca.crt (the only trusted root), tls.crt and tls.key (the client certificate).
  std::string certDir;
  // Sent first on every connection; `version` is replaced by servingVersion() each time.
  api::stream::Hello hello;
  // Resolve, connect, TLS and WebSocket handshakes, each.
  std::chrono::milliseconds handshakeTimeout = std::chrono::seconds(10);
  // Nothing received for this long (pings included) is a dead connection; a ping is sent at half.
  std::chrono::milliseconds idleTimeout = std::chrono::seconds(30);
  std::chrono::milliseconds backoffBase = std::chrono::milliseconds(500);
  std::chrono::milliseconds backoffCap = std::chrono::seconds(30);
};

// What /config_dump shows of the stream.
struct ConfigStreamStatus {
  std::string url;
  bool connected = false;
  std::string lastError;  // the last failure, kept after a reconnect
  std::optional<std::chrono::system_clock::time_point> connectedSince;
};

class ConfigStreamClient : public std::enable_shared_from_this<ConfigStreamClient> {
 public:
  // What applying one snapshot gave: `errors` refused it whole (a Nack, one error per entry);
  // otherwise it serves (an Ack), without the routes in `refusedRoutes` ("ns/name" → errors).
  struct ApplyResult {
    std::vector<std::string> errors;
    std::map<std::string, std::vector<std::string>> refusedRoutes;
  };
  using Apply = std::function<ApplyResult(const std::string& version, const nlohmann::json&)>;
  struct Callbacks {
    Apply apply;
    std::function<std::string()> servingVersion;            // "" before any config serves
    std::function<void(bool connected)> connectionChanged;  // optional
  };

  static std::shared_ptr<ConfigStreamClient> create(boost::asio::io_context& context,
                                                    ConfigStreamClientOptions options,
                                                    Callbacks callbacks);
  ConfigStreamClient(const ConfigStreamClient&) = delete;
  ConfigStreamClient& operator=(const ConfigStreamClient&) = delete;

  // Starts connecting. Once only.
  void start();
  // Closes the connection and stops reconnecting; the callbacks are not called afterwards.
  void stop();

  ConfigStreamStatus status() const;

 private:
  ConfigStreamClient(boost::asio::io_context& context, ConfigStreamClientOptions options,
                     Callbacks callbacks);

  boost::asio::awaitable<void> run();
  // One connection, from resolving to its end; true when it delivered at least one snapshot.
  boost::asio::awaitable<bool> connectOnce();
  void failed(const std::string& error);
  void setConnected(bool connected);

  boost::asio::io_context& context_;
  const ConfigStreamClientOptions options_;
  const Callbacks callbacks_;
  boost::asio::steady_timer backoff_;
  std::mt19937_64 random_;
  bool stopped_ = false;
  bool wasConnected_ = false;
  std::string lastLoggedFailure_;
  // Cancels what the current attempt waits for (resolve, socket); set while one is in progress.
  std::function<void()> cancelCurrent_;

  mutable std::mutex mutex_;  // guards status_
  ConfigStreamStatus status_;
};

using ConfigStreamClientSharedPtr = std::shared_ptr<ConfigStreamClient>;

}  // namespace meshgate::dp
