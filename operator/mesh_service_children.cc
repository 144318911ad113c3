// MeshService → Service and EndpointSlices.
#include "operator/mesh_service_children.h"

#include <algorithm>
#include <map>
#include <set>

#include <boost/asio/ip/address.hpp>

#include "api/mesh_identity.h"
#include "operator/owner_reference.h"

namespace meshgate::op {

namespace {

std::string appProtocolOf(const api::ServicePort& port) {
  const std::string protocol = port.protocol.value_or(std::string(api::protocol::kHTTP));
  if (protocol == api::protocol::kHTTP2) return "kubernetes.io/h2c";
  if (protocol == api::protocol::kTCP) return "tcp";
  return "http";
}

bool isIpv6(const std::string& address) {
  return address.find(':') != std::string::npos;
}

}  // namespace

bool isSliceAddress(const std::string& address) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address, ec);
  if (ec) return false;
  if (ip.is_loopback()) return false;
  if (ip.is_v6()) return !ip.to_v6().is_link_local();
  return (ip.to_v4().to_uint() & 0xffff0000u) != 0xa9fe0000u;  // 169.254.0.0/16
}

bool isStaticEndpointSlice(const nlohmann::json& slice) {
  const auto metadata = slice.find("metadata");
  if (metadata == slice.end() || !metadata->is_object()) return false;
  const auto labels = metadata->find("labels");
  if (labels == metadata->end() || !labels->is_object()) return false;
  return labels->value("endpointslice.kubernetes.io/managed-by", "") == kEndpointSliceManager;
}

std::string serviceAccountOf(const api::MeshService& ms) {
  return ms.spec.serviceAccount.value_or(ms.metadata.name);
}

std::string spiffeId(const std::string& trustDomain, const std::string& ns,
                     const std::string& serviceAccount) {
  return api::spiffeId(
      {.trustDomain = trustDomain, .namespace_ = ns, .serviceAccount = serviceAccount});
}

nlohmann::json desiredService(const api::MeshService& ms) {
  nlohmann::json service = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", childMetadata(ms.metadata.name, ms.metadata, "MeshService")}};
  service["metadata"]["labels"][kMeshServiceLabel] = ms.metadata.name;
  auto& spec = service["spec"];
  // Without a selector Kubernetes leaves the endpoints to us (the static EndpointSlices).
  if (!ms.spec.selector.empty()) spec["selector"] = ms.spec.selector;
  spec["ports"] = nlohmann::json::array();
  for (const auto& port : ms.spec.ports) {
    spec["ports"].push_back({{"name", port.name},
                             {"port", port.port},
                             {"targetPort", port.targetPort.value_or(port.port)},
                             {"protocol", "TCP"},
                             {"appProtocol", appProtocolOf(port)}});
  }
  return service;
}

std::vector<nlohmann::json> desiredEndpointSlices(const api::MeshService& ms) {
  // Endpoints sharing an address family and a port override share a slice: a slice's ports apply
  // to all of its endpoints.
  std::map<std::pair<std::string, int64_t>, std::vector<std::string>> groups;
  for (const auto& endpoint : ms.spec.endpoints) {
    if (!isSliceAddress(endpoint.address)) continue;
    groups[{isIpv6(endpoint.address) ? "IPv6" : "IPv4", endpoint.port.value_or(0)}].push_back(
        endpoint.address);
  }
  std::vector<nlohmann::json> slices;
  for (const auto& [group, addresses] : groups) {
    const auto& [family, portOverride] = group;
    std::string name = ms.metadata.name + "-static-" + (family == "IPv6" ? "ipv6" : "ipv4");
    if (portOverride != 0) name += "-" + std::to_string(portOverride);
    nlohmann::json slice = {{"apiVersion", "discovery.k8s.io/v1"},
                            {"kind", "EndpointSlice"},
                            {"metadata", childMetadata(name, ms.metadata, "MeshService")},
                            {"addressType", family}};
    auto& labels = slice["metadata"]["labels"];
    labels["kubernetes.io/service-name"] = ms.metadata.name;
    labels["endpointslice.kubernetes.io/managed-by"] = kEndpointSliceManager;
    labels[kMeshServiceLabel] = ms.metadata.name;
    slice["ports"] = nlohmann::json::array();
    for (const auto& port : ms.spec.ports) {
      slice["ports"].push_back(
          {{"name", port.name},
           {"port", portOverride != 0 ? portOverride : port.targetPort.value_or(port.port)},
           {"protocol", "TCP"},
           {"appProtocol", appProtocolOf(port)}});
    }
    slice["endpoints"] = nlohmann::json::array();
    for (const auto& address : addresses) {
      slice["endpoints"].push_back({{"addresses", {address}}, {"conditions", {{"ready", true}}}});
    }
    slices.push_back(std::move(slice));
  }
  return slices;
}

std::vector<std::string> proxyOnlyAddresses(const api::MeshService& ms) {
  std::vector<std::string> out;
  for (const auto& endpoint : ms.spec.endpoints) {
    if (isSliceAddress(endpoint.address)) continue;
    if (std::find(out.begin(), out.end(), endpoint.address) == out.end())
      out.push_back(endpoint.address);
  }
  return out;
}

api::EndpointCounts countEndpoints(const api::MeshService& ms,
                                   const std::vector<nlohmann::json>& applied,
                                   const std::vector<const nlohmann::json*>& cached) {
  std::set<std::string> all;
  std::set<std::string> ready;
  auto countSlice = [&](const nlohmann::json& slice) {
    const auto endpoints = slice.find("endpoints");
    if (endpoints == slice.end() || !endpoints->is_array()) return;
    for (const auto& endpoint : *endpoints) {
      const auto addresses = endpoint.find("addresses");
      if (addresses == endpoint.end() || !addresses->is_array() || addresses->empty()) continue;
      const std::string address = (*addresses)[0].get<std::string>();
      all.insert(address);
      bool isReady = true;
      if (auto conditions = endpoint.find("conditions"); conditions != endpoint.end()) {
        isReady = conditions->value("ready", true);
      }
      if (isReady) ready.insert(address);
    }
  };
  for (const auto& slice : applied)
    countSlice(slice);
  for (const auto* slice : cached) {
    if (isStaticEndpointSlice(*slice)) continue;
    countSlice(*slice);
  }
  for (const auto& address : proxyOnlyAddresses(ms)) {
    all.insert(address);
    ready.insert(address);
  }
  return {static_cast<int64_t>(ready.size()), static_cast<int64_t>(all.size())};
}

}  // namespace meshgate::op
