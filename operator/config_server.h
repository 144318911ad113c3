// ConfigServer is the operator's config stream endpoint (port 15012): meshgate-proxy gateways
// connect to it and receive the snapshot of their ingress class, sidecars the snapshot of their
// workload identity, then every newer one, over a WebSocket on mutually authenticated TLS
// (api/config_stream_protocol.h). The operator's main() runs one and gives it the mesh CA's
// serving certificate and trust bundle:
//
//   ConfigServer server({.gatewayIdentities = {gatewaySpiffeId}, .trustDomain = "cluster.local"},
//                       publisher, registry);
//   server.setCredentials({certPem, keyPem, bundlePem});   // again at each renewal / rotation
//   auto port = server.start();
//
// The rules, in connection order:
//  1. TLS 1.2+ with a client certificate that chains to a root of trustBundlePem (no certificate
//     or an untrusted one fails the handshake). Each connection takes the credentials current at
//     its accept; setCredentials() never affects open connections. Connections accepted before
//     any credentials were set, or beyond maxConnections, are closed at once.
//  2. One HTTP request, read within handshakeTimeout of the accept (TLS included): a target other
//     than kPath → 404; not a GET WebSocket upgrade → 400; malformed → 400. One-line text body,
//     then the connection closes.
//  3. The upgrade is accepted (what is left of handshakeTimeout bounds it); frames are text, at
//     most kMaxFrameBytes. A binary frame closes with 1003 (unknown_data).
//  4. The first frame must be a Hello within helloTimeout, else the connection closes with 1008
//     (policy_error): not a Hello, or malformed (the decode error is the reason, cut to 123
//     bytes). An empty ingressClass means defaultIngressClass.
//  5. Authorization, from the client certificate only (the Hello's node is kept for logs and the
//     registry), by the mode the Hello asks for; a refusal closes with 1008 and the reason:
//     - gateway: one of the certificate's URI SANs must be listed in gatewayIdentities (that SAN
//       is the peer's identity), else `forbidden: <its first spiffe:// URI, or "no SPIFFE ID">
//       may not receive gateway config`;
//     - sidecar: the certificate must carry exactly one URI SAN, a SPIFFE ID
//       (api::parseSpiffeId) of trustDomain, which is then the workload identity served; else
//       `forbidden: a sidecar must present a workload SPIFFE ID of trust domain <trustDomain>`.
//       A gateway identity is refused too (`forbidden: the gateway identity may not receive
//       sidecar config`).
//  6. The proxy is then registered (DataplaneRegistry::connected) and sent gatewaySnapshot(its
//     class), or sidecarSnapshot(its identity) — which it keeps (keepSidecar) while connected —
//     when there is one. Whenever the SnapshotSource notifies, each session re-reads its
//     snapshot and sends it if its version differs from the last one sent. At most one
//     snapshot is in flight per session and none is queued: after a write the session sends the
//     newest version, so the ones published meanwhile are skipped (a slow proxy costs no memory).
//     DataplaneRegistry::sent is called when a write has completed. Frames are shared, not copied.
//  7. Later frames: Ack → acked (with its refused routes), Nack → nacked (both logged at warn
//     when something was refused); a second Hello or a malformed frame closes with 1008.
//  8. Keepalive (Beast's timeout option): after 1.5 pingIntervals without a frame from the peer
//     the server pings; a peer silent for 3 pingIntervals is dropped. This also bounds a write to
//     a proxy that stopped reading. DataplaneRegistry::disconnected is called exactly once for a
//     registered session, whatever ends it.
//  9. stop() closes the listener and every connection at once, without close frames (proxies
//     reconnect elsewhere), and returns once every session has ended.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/expected.h"
#include "operator/dataplane_registry.h"
#include "operator/snapshot_source.h"

namespace boost::asio::ssl {
class context;
}

namespace meshgate::op {

class ConfigSession;

struct ConfigServerCredentials {
  std::string certificatePem;  // the server's chain, leaf first
  std::string privateKeyPem;   // never logged
  std::string trustBundlePem;  // mesh CA roots: client certificates must chain to one of them
};

struct ConfigServerOptions {
  // "127.0.0.1:15012", "[::1]:0", ":15012" (every IPv4 interface); see metrics/bind_address.h.
  std::string bindAddress = ":15012";
  // SPIFFE IDs allowed to receive gateway config (and refused sidecar config).
  std::vector<std::string> gatewayIdentities;
  // The mesh's trust domain: a sidecar's SPIFFE ID must be of it.
  std::string trustDomain = "cluster.local";
  // Threads running every connection; at least 1.
  std::size_t threads = 1;
  // From the TCP accept to the end of the TLS and WebSocket handshakes.
  std::chrono::milliseconds handshakeTimeout{10000};
  // From the upgrade to the first (Hello) frame.
  std::chrono::milliseconds helloTimeout{10000};
  // Keepalive period; see rule 8 above.
  std::chrono::milliseconds pingInterval{10000};
  // Connections beyond this are closed as soon as they are accepted.
  std::size_t maxConnections = 20000;
  std::string defaultIngressClass = "meshgate";
};

/**
 * Every member function is thread-safe. `source` and `registry` must outlive the server. start()
 * may be called again after stop().
 */
class ConfigServer {
 public:
  ConfigServer(ConfigServerOptions options, SnapshotSource& source, DataplaneRegistry& registry);
  // Stops the server.
  ~ConfigServer();
  ConfigServer(const ConfigServer&) = delete;
  ConfigServer& operator=(const ConfigServer&) = delete;

  // Swaps the TLS identity and the trust bundle for new connections (a renewal, a CA rotation);
  // open connections keep theirs. Returns "" or why the PEMs do not load (never quoting the key);
  // on failure the previous credentials stay.
  std::string setCredentials(const ConfigServerCredentials& credentials);
  bool hasCredentials() const;

  // Listens on options.bindAddress and starts the threads. Returns the bound port (the ephemeral
  // one for port 0) or why it cannot listen.
  meshgate::Expected<unsigned short, std::string> start();

  // Closes the listener and every connection and joins the threads. Does nothing when not started.
  void stop();

  // Connections accepted and not yet closed.
  std::size_t activeConnections() const;

 private:
  struct Running;

  // The context new connections take; nullptr until setCredentials() succeeded.
  std::shared_ptr<boost::asio::ssl::context> currentTls() const;

  const ConfigServerOptions options_;
  SnapshotSource& source_;
  DataplaneRegistry& registry_;

  mutable std::mutex tlsMutex_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // guarded by tlsMutex_

  std::mutex mutex_;
  std::unique_ptr<Running> running_;  // guarded by mutex_

  // The open connections, for the cap, activeConnections() and snapshot notifications; entries
  // expire as sessions end and are pruned at each accept.
  mutable std::mutex sessionsMutex_;
  std::vector<std::weak_ptr<ConfigSession>> sessions_;  // guarded by sessionsMutex_
  // Notified as each session ends, for stop().
  std::condition_variable sessionEnded_;
};

}  // namespace meshgate::op
