// MeshTable: the sidecar's lookup of a connection or request to what serves it, compiled with the
// Snapshot from its `mesh` section (mesh_expansion.h made the routes). Outbound, a captured
// connection is looked up by its original destination — a MeshService's cluster IP and port, an
// HTTP port (a route's rule) or a TCP one (a TcpTarget) — and a request the application sent to
// the sidecar itself by its Host ("orders.shop.svc:8080"; no port means 80; HTTP ports only).
// Inbound, by the original destination's port: the application port a MeshService selecting this
// workload declares, with its protocol, its mTLS mode and who may call it. What it does not know
// passes through unchanged (outbound) or to the application in plaintext (inbound), as Istio's
// passthrough does. Read-only after build; pointers into its Snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>

#include "api/mesh_identity.h"
#include "dataplane/config/proxy_config.h"
#include "dataplane/proxy/proxy_stats.h"

namespace meshgate::dp {

struct CompiledRule;
struct TcpTarget;

// The request header an inbound sidecar sets to the caller's verified SPIFFE ID (and removes from
// whatever the caller sent), so the application can tell who called.
inline constexpr std::string_view kPeerIdentityHeader = "x-meshgate-peer-identity";

struct MeshOutboundTarget {
  std::string service;  // "<ns>/<name>"
  // An HTTP port's route rule. Null on an HTTP port: the MeshService's authorization does not
  // admit this workload (answered 403 locally).
  const CompiledRule* rule = nullptr;
  std::string identity;  // the SPIFFE ID its endpoints must present; empty: plaintext
  bool tcp = false;      // a TCP port: relayed as bytes, never routed by Host
  // A TCP port's index in Snapshot::tcpTargets(); nullopt on a TCP port: not admitted (closed).
  std::optional<size_t> tcpTarget;
};

enum class MtlsMode { kStrict, kPermissive, kDisabled };

struct MeshInboundTarget {
  uint16_t port = 0;
  std::string service;           // "<ns>/<name>"
  std::string serviceNamespace;  // where a rule's lone serviceAccount lives
  MtlsMode mode = MtlsMode::kStrict;
  std::optional<std::vector<api::AuthorizationRule>> allow;
  const CompiledRule* rule = nullptr;
  // A TCP port: authorized once per connection, then relayed as bytes to the application; its
  // connections and bytes counted under "inbound|<port>".
  bool tcp = false;
  TcpListenerCounters counters;
};

class MeshTable {
 public:
  // `rules`: the snapshot's compiled rules, [route][rule], of `config` (already expanded);
  // `tcpTargets`: the snapshot's, where a mesh TCP port is found by its name,
  // meshOutboundRouteName("<ns>/<name>", port).
  static MeshTable build(const ProxyConfig& config,
                         const std::vector<std::vector<CompiledRule>>& rules,
                         const std::vector<TcpTarget>& tcpTargets, ProxyStats& stats);

  const MeshOutboundTarget* outboundByAddress(const boost::asio::ip::tcp::endpoint& to) const;
  // `host`: a Host header's value, with or without port.
  const MeshOutboundTarget* outboundByHost(std::string_view host) const;
  const MeshInboundTarget* inbound(uint16_t port) const;

  const std::string& identity() const { return identity_; }
  const std::string& trustDomain() const { return trustDomain_; }
  // Whether `caller` (a verified SPIFFE ID, or nullopt for plaintext) may call `target`.
  bool admits(const MeshInboundTarget& target, const std::optional<std::string>& caller) const;
  // Every SPIFFE ID an outbound target expects, by the cluster key of its rule's backend.
  const std::vector<MeshOutboundTarget>& outboundTargets() const { return outbound_; }

 private:
  std::string identity_;
  std::string trustDomain_;
  std::vector<MeshOutboundTarget> outbound_;
  std::map<std::pair<boost::asio::ip::address, uint16_t>, size_t> byAddress_;
  std::unordered_map<std::string, size_t> byHost_;  // "host:port", lower-case
  std::map<uint16_t, MeshInboundTarget> inbound_;
};

}  // namespace meshgate::dp
