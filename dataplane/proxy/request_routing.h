// The request-path steps both client codecs share — DownstreamSession (HTTP/1.1) and
// Http2Exchange (HTTP/2) — so a route behaves the same whatever version the client speaks: the
// query split for matching, the head limits, the MeshTable decision of a sidecar's listeners (which
// rule, or which refusal), the path prefix rewrite, the balancing hash, and the per-route
// accounting of a finished request. Pure functions of their arguments, run on the worker's thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/http/http1_parser.h"
#include "dataplane/proxy/byte_stream.h"
#include "dataplane/proxy/deadline_sweeper.h"
#include "dataplane/proxy/local_reply.h"
#include "dataplane/proxy/snapshot.h"
#include "dataplane/proxy/worker_view.h"

namespace meshgate::dp {

class ProxyStats;
class Worker;

// What a session of a sidecar's mesh listener knows of its connection (mesh_accept.h).
struct MeshConnection {
  api::ListenerRole role = api::ListenerRole::kMeshOutbound;
  // Outbound: the captured destination (nullopt: the application called the sidecar itself, and
  // requests are routed by Host). Inbound: the application port it was going to.
  std::optional<tcp::endpoint> original;
  bool mtls = false;  // inbound: the connection is mutual TLS
  // Inbound mTLS: the caller's SPIFFE ID, read after the handshake.
  std::optional<std::string> peerIdentity;
};

// The limits a request or response head is parsed with.
inline http::Limits headLimits(const api::LimitsConfig& limits) {
  return {.maxRequestLineBytes = limits.maxRequestLineBytes,
          .maxHeadBytes = limits.maxHeaderBytes,
          .maxHeaders = limits.maxHeaders};
}

// Splits "a=1&b=2" into pairs (no percent-decoding: matches compare the raw text, as the Gateway
// API leaves decoding to the implementation and raw comparison cannot be fooled by double
// encoding).
void splitQuery(std::string_view query,
                std::vector<std::pair<std::string_view, std::string_view>>& out);

// The rule a mesh listener's request goes to, or null with `refusal` set (403, 404, 503).
const CompiledRule* routeMeshRequest(const Snapshot& snapshot, const MeshConnection& mesh,
                                     std::string_view host, ProxyStats& stats, LocalReply& refusal);

// `path` after the rule's prefix rewrite; the rewritten path is built in `scratch`.
std::string_view rewritePath(const CompiledRule& rule, std::string_view path, std::string& scratch);

// The key a ring-hash cluster balances this request by (none for other clusters).
RequestHash requestHash(const Cluster& cluster, const RequestView& request,
                        std::string_view clientIp);

// Counts a finished request on its route (per backend, or answered without one) with its latency,
// or as unrouted.
void countFinishedRequest(Worker& worker, unsigned status, const CompiledRule* rule,
                          std::optional<size_t> backend, SteadyTime start);

}  // namespace meshgate::dp
