// Compiling and querying the sidecar's mesh lookups.
#include "dataplane/proxy/mesh_table.h"

#include "base/ascii.h"
#include "dataplane/proxy/mesh_expansion.h"
#include "dataplane/proxy/snapshot.h"

namespace meshgate::dp {

namespace {

MtlsMode parseMode(const std::string& text) {
  if (text == api::mtls_mode::kPermissive) return MtlsMode::kPermissive;
  if (text == api::mtls_mode::kDisabled) return MtlsMode::kDisabled;
  return MtlsMode::kStrict;
}

const CompiledRule* ruleNamed(const ProxyConfig& config,
                              const std::vector<std::vector<CompiledRule>>& rules,
                              const std::string& ns, const std::string& name) {
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const auto& metadata = config.routes[i].metadata;
    if (metadata.name == name && metadata.namespace_ == ns && !rules[i].empty())
      return &rules[i].front();
  }
  return nullptr;
}

}  // namespace

MeshTable MeshTable::build(const ProxyConfig& config,
                           const std::vector<std::vector<CompiledRule>>& rules,
                           const std::vector<TcpTarget>& tcpTargets, ProxyStats& stats) {
  MeshTable table;
  if (!config.mesh) return table;
  const api::MeshConfig& mesh = *config.mesh;
  table.identity_ = mesh.identity;
  table.trustDomain_ = mesh.trustDomain;
  std::map<std::string, size_t> routeIndex;
  for (size_t i = 0; i < config.routes.size(); ++i)
    routeIndex[config.routes[i].metadata.namespace_ + "/" + config.routes[i].metadata.name] = i;

  std::unordered_map<std::string, size_t> tcpTargetIndex;
  for (size_t i = 0; i < tcpTargets.size(); ++i)
    tcpTargetIndex.emplace(tcpTargets[i].name, i);
  for (const auto& service : mesh.outbound) {
    auto addByAddress = [&](uint16_t port, size_t index) {
      for (const auto& text : service.addresses) {
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address(text, ec);
        if (!ec) table.byAddress_.emplace(std::make_pair(address, port), index);
      }
    };
    for (const uint16_t port : service.ports) {
      MeshOutboundTarget target{.service = service.namespace_ + "/" + service.name,
                                .rule = nullptr,
                                .identity = service.identity};
      if (service.allowed)
        target.rule =
            ruleNamed(config, rules, service.namespace_, meshOutboundRouteName(service.name, port));
      const size_t index = table.outbound_.size();
      table.outbound_.push_back(std::move(target));
      addByAddress(port, index);
      for (const auto& host : service.hosts) {
        const std::string name = asciiLower(host);
        table.byHost_.emplace(name + ":" + std::to_string(port), index);
        if (port == 80) table.byHost_.emplace(name, index);
      }
    }
    for (const uint16_t port : service.tcpPorts) {
      MeshOutboundTarget target{.service = service.namespace_ + "/" + service.name,
                                .rule = nullptr,
                                .identity = service.identity,
                                .tcp = true};
      if (const auto found = tcpTargetIndex.find(
              meshOutboundRouteName(service.namespace_ + "/" + service.name, port));
          service.allowed && found != tcpTargetIndex.end())
        target.tcpTarget = found->second;
      const size_t index = table.outbound_.size();
      table.outbound_.push_back(std::move(target));
      addByAddress(port, index);
    }
  }

  const auto self = api::parseSpiffeId(mesh.identity);
  for (const auto& port : mesh.inbound) {
    MeshInboundTarget target{
        .port = port.port,
        .service = port.service,
        .serviceNamespace = self ? self->namespace_ : std::string(),
        .mode = parseMode(port.mtlsMode),
        .allow = port.allow,
        .rule = ruleNamed(config, rules, self ? self->namespace_ : std::string(),
                          meshInboundRouteName(port.port)),
        .tcp = port.tcp};
    if (port.tcp) target.counters = stats.tcpListener(meshInboundRouteName(port.port));
    table.inbound_.emplace(port.port, std::move(target));
  }
  return table;
}

const MeshOutboundTarget* MeshTable::outboundByAddress(
    const boost::asio::ip::tcp::endpoint& to) const {
  const auto found = byAddress_.find({to.address(), to.port()});
  return found == byAddress_.end() ? nullptr : &outbound_[found->second];
}

const MeshOutboundTarget* MeshTable::outboundByHost(std::string_view host) const {
  std::string key = asciiLower(std::string(host));
  auto found = byHost_.find(key);
  if (found == byHost_.end()) {
    // A fully qualified name may end with a dot.
    const size_t colon = key.rfind(':');
    const size_t dot = colon == std::string::npos ? key.size() - 1 : colon - 1;
    if (dot < key.size() && key[dot] == '.') {
      key.erase(dot, 1);
      found = byHost_.find(key);
    }
  }
  return found == byHost_.end() ? nullptr : &outbound_[found->second];
}

const MeshInboundTarget* MeshTable::inbound(uint16_t port) const {
  const auto found = inbound_.find(port);
  return found == inbound_.end() ? nullptr : &found->second;
}

bool MeshTable::admits(const MeshInboundTarget& target,
                       const std::optional<std::string>& caller) const {
  if (!caller) return !target.allow.has_value();  // plaintext: only where anyone may call
  const auto identity = api::parseSpiffeId(*caller);
  if (!identity) return false;
  return api::authorizationAdmits(target.allow, target.serviceNamespace, trustDomain_, *identity);
}

}  // namespace meshgate::dp
