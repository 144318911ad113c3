// The request-path steps DownstreamSession and Http2Exchange share.
#include "dataplane/proxy/request_routing.h"

#include <algorithm>

#include "dataplane/proxy/mesh_table.h"
#include "dataplane/proxy/proxy_stats.h"
#include "dataplane/proxy/worker.h"

namespace meshgate::dp {

void splitQuery(std::string_view query,
                std::vector<std::pair<std::string_view, std::string_view>>& out) {
  out.clear();
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (!item.empty()) {
      const size_t eq = item.find('=');
      if (eq == std::string_view::npos)
        out.emplace_back(item, std::string_view{});
      else
        out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

const CompiledRule* routeMeshRequest(const Snapshot& snapshot, const MeshConnection& connection,
                                     std::string_view host, ProxyStats& stats,
                                     LocalReply& refusal) {
  const MeshTable* mesh = snapshot.mesh();
  if (mesh == nullptr) {
    refusal = makeLocalReply(503, "meshgate sidecar: no mesh config yet\n");
    return nullptr;
  }
  if (connection.role == api::ListenerRole::kMeshOutbound) {
    const MeshOutboundTarget* target = connection.original
                                           ? mesh->outboundByAddress(*connection.original)
                                           : mesh->outboundByHost(host);
    if (target == nullptr) {
      refusal =
          makeLocalReply(404, "meshgate sidecar: no MeshService at " + std::string(host) + "\n");
      return nullptr;
    }
    if (target->rule == nullptr) {
      stats.meshDenied.with({"outbound", "authorization"}).inc();
      refusal =
          makeLocalReply(403, "meshgate sidecar: " + mesh->identity() + " may not call " +
                                  target->service + " (its authorization does not allow it)\n");
      return nullptr;
    }
    if (!target->identity.empty() && !snapshot.meshTls().client) {
      refusal = makeLocalReply(503, "meshgate sidecar: no workload identity yet to call " +
                                        target->service + " over mTLS\n");
      return nullptr;
    }
    return target->rule;
  }
  const uint16_t port = connection.original ? connection.original->port() : 0;
  const MeshInboundTarget* target = mesh->inbound(port);
  if (target == nullptr || target->rule == nullptr) {
    refusal = makeLocalReply(
        503, "meshgate sidecar: port " + std::to_string(port) + " is no longer a mesh port\n");
    refusal.closeConnection = true;
    return nullptr;
  }
  if (!connection.mtls && target->mode == MtlsMode::kStrict) {
    stats.meshDenied.with({"inbound", "plaintext"}).inc();
    refusal =
        makeLocalReply(403, "meshgate sidecar: port " + std::to_string(port) + " of " +
                                target->service + " requires mutual TLS (mtls.mode Strict)\n");
    refusal.closeConnection = true;
    return nullptr;
  }
  if (connection.mtls && !connection.peerIdentity) {
    stats.meshDenied.with({"inbound", "no_identity"}).inc();
    refusal = makeLocalReply(403, "meshgate sidecar: the client certificate names no SPIFFE ID\n");
    refusal.closeConnection = true;
    return nullptr;
  }
  if (!mesh->admits(*target, connection.peerIdentity)) {
    stats.meshDenied.with({"inbound", "authorization"}).inc();
    const std::string who =
        connection.peerIdentity ? *connection.peerIdentity : "a plaintext caller";
    refusal = makeLocalReply(403, "meshgate sidecar: " + who + " may not call " + target->service +
                                      " (not in its authorization.allow)\n");
    return nullptr;
  }
  return target->rule;
}

std::string_view rewritePath(const CompiledRule& rule, std::string_view path,
                             std::string& scratch) {
  if (!rule.rewritePathPrefix) return path;
  for (const auto& prefix : rule.pathPrefixes) {
    if (!pathPrefixMatches(prefix, path)) continue;
    std::string_view rest = path.substr(std::min(path.size(), prefix.size()));
    if (prefix.size() > 1 && prefix.back() == '/') rest = path.substr(prefix.size() - 1);
    scratch = *rule.rewritePathPrefix;
    if (!rest.empty() && rest.front() == '/' && !scratch.empty() && scratch.back() == '/')
      scratch.pop_back();
    scratch.append(rest);
    if (scratch.empty()) scratch = "/";
    return scratch;
  }
  return path;
}

RequestHash requestHash(const Cluster& cluster, const RequestView& request,
                        std::string_view clientIp) {
  switch (cluster.hashSource) {
    case HashSource::None:
      return std::nullopt;
    case HashSource::SourceIP:
      return RingHash::hashKey(clientIp);
    case HashSource::Header:
      if (auto value = request.header(cluster.hashName)) return RingHash::hashKey(*value);
      return std::nullopt;
    case HashSource::Cookie:
      if (auto header = request.header("cookie"))
        if (auto value = cookieValue(*header, cluster.hashName)) return RingHash::hashKey(*value);
      return std::nullopt;
  }
  return std::nullopt;
}

void countFinishedRequest(Worker& worker, unsigned status, const CompiledRule* rule,
                          std::optional<size_t> backend, SteadyTime start) {
  if (!rule) {
    worker.countUnrouted(status);
    return;
  }
  if (backend)
    rule->backends[*backend].counters.count(status);
  else
    rule->directCounters.count(status);
  if (rule->latency)
    rule->latency->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace meshgate::dp
