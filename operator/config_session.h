// ConfigSession is one proxy's connection to the ConfigServer: TLS handshake, the upgrade
// request, the Hello and its authorization (what the client certificate's identity may receive in
// the mode the Hello asks for), then snapshots pushed and ACKs/NACKs read until either side
// closes. The rules it follows are listed in config_server.h.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "api/mesh_identity.h"
#include "net/fd_tls_stream.h"
#include "operator/config_server.h"
#include "operator/dataplane_registry.h"
#include "operator/snapshot_source.h"

namespace meshgate::op {

/**
 * Lives as long as one of its coroutines (the reader, the writer) or the Hello timer is pending;
 * each holds a shared_ptr. Its socket's executor is a strand of its own, on which every one of its
 * handlers runs; snapshotsChanged() is the only member called from other threads.
 */
class ConfigSession : public std::enable_shared_from_this<ConfigSession> {
 public:
  // `socket` must have a strand as its executor. `tls` is kept for the connection's lifetime, so
  // new credentials do not affect it. `options`, `source` and `registry` must outlive the session.
  // `onClosed` is called from the destructor, on whichever thread drops the last reference.
  ConfigSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls,
                const ConfigServerOptions& options, SnapshotSource& source,
                DataplaneRegistry& registry, std::function<void()> onClosed);
  // Reports the disconnection to the registry when the proxy was registered, then onClosed.
  ~ConfigSession();
  ConfigSession(const ConfigSession&) = delete;
  ConfigSession& operator=(const ConfigSession&) = delete;

  void start();

  // Thread-safe and non-blocking: the session re-reads its snapshot on its strand and sends it
  // when the version changed.
  void snapshotsChanged();

  // Thread-safe: closes the connection at once (no close frame), for the server's stop().
  void abort();

 private:
  // FdTlsStream, not beast::ssl_stream: an idle session then costs ~30 KiB instead of ~100 KiB
  // (no asio::ssl buffers), which is what 1,000+ connected proxies add up to.
  using WebSocket = boost::beast::websocket::stream<net::FdTlsStream>;

  boost::asio::awaitable<void> run();
  // TLS handshake, the upgrade request and the WebSocket accept. False when the connection ended
  // (refused or failed).
  boost::asio::awaitable<bool> upgrade();
  // The identity a gateway Hello is served as (a certificate URI listed in gatewayIdentities), or
  // nullopt with the close reason.
  std::optional<std::string> gatewayIdentity(std::string& refusal) const;
  // The workload a sidecar Hello is served as — the certificate's one URI SAN, a SPIFFE ID of the
  // operator's trust domain and no gateway identity — or nullopt with the close reason.
  std::optional<api::WorkloadIdentity> sidecarIdentity(std::string& refusal) const;
  // Answers the upgrade request with a plain HTTP error, then closes TLS.
  boost::asio::awaitable<void> refuse(boost::beast::http::status status, std::string body,
                                      unsigned version);
  // Reads the Hello and registers the proxy. False when the connection ended.
  boost::asio::awaitable<bool> hello();
  boost::asio::awaitable<void> readFrames();
  // The writer: sends the newest snapshot whenever it differs from the last one sent.
  boost::asio::awaitable<void> sendSnapshots();
  // Reads one text frame into buffer_. False when the connection ended or was closed for a
  // binary frame.
  boost::asio::awaitable<bool> readFrame(const char* what);
  // Closes the WebSocket with `code` and `reason` (cut to what a close frame holds).
  boost::asio::awaitable<void> closeWith(boost::beast::websocket::close_code code,
                                         std::string reason);
  void onHelloTimeout();
  // Ends the writer and the Hello timer.
  void stopping();
  // Arms handshakeDeadline_: at `deadline` the socket closes and pending operations abort.
  void closeAt(std::chrono::steady_clock::time_point deadline);
  void closeSocket();
  void ended(boost::beast::error_code ec, const char* what);
  std::string describe() const;

  const boost::asio::any_io_executor executor_;
  const boost::asio::ip::tcp::endpoint peer_;
  const std::chrono::steady_clock::time_point acceptedAt_;
  // Declared before ws_: the stream's SSL object refers to it.
  const std::shared_ptr<boost::asio::ssl::context> tls_;
  WebSocket ws_;
  boost::beast::flat_buffer buffer_;
  // The writer waits on it (never expiring) while it has nothing to send; cancelled to wake it.
  boost::asio::steady_timer wake_;
  // Closes the socket when the TLS handshake and the upgrade (or a refusal) take too long.
  boost::asio::steady_timer handshakeDeadline_;
  boost::asio::steady_timer helloDeadline_;
  const ConfigServerOptions& options_;
  SnapshotSource& source_;
  DataplaneRegistry& registry_;
  const std::function<void()> onClosed_;

  // The client certificate's URI SANs, read after the handshake verified it.
  std::vector<std::string> peerUris_;
  std::string identity_;  // the SPIFFE ID it is served as, once the Hello was authorized
  std::string node_;
  std::string mode_;
  std::string ingressClass_;                       // gateway mode
  std::optional<api::WorkloadIdentity> workload_;  // sidecar mode
  // Sidecar mode: keeps the identity's snapshot maintained while the session lives.
  SubscriptionPtr sidecarSnapshot_;
  std::optional<SessionId> id_;  // set once registered
  std::string sentVersion_;
  bool helloReceived_ = false;
  // Set when the connection is ending: the writer stops.
  bool closing_ = false;
  bool closeStarted_ = false;
  // Set by abort(): the errors that follow are ours.
  bool aborted_ = false;
};

}  // namespace meshgate::op
