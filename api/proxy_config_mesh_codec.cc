// The mesh section's codec; see proxy_config_mesh_codec.h.
#include "api/proxy_config_mesh_codec.h"

#include <cstdint>
#include <string>
#include <vector>

#include "api/mesh_service.h"
#include "api/strict_json_reader.h"
#include "api/value_rules.h"

namespace meshgate::api {

using nlohmann::json;

namespace {

using namespace strict_json;

// A port of the mesh section: 1..65535 (0, which the struct could hold, is no port).
bool decodePort(const json& j, const FieldPath& path, ErrorList& errors, uint16_t& out) {
  std::int64_t value = 0;
  const std::size_t before = errors.size();
  api::decodeInto(j, path, errors, value);
  if (errors.size() != before) return false;
  api::validatePort(value, path, errors);
  if (errors.size() != before) return false;
  out = static_cast<uint16_t>(value);
  return true;
}

void readPort(const StrictObject& o, std::string_view name, uint16_t& out) {
  if (const json* j = o.find(name)) decodePort(*j, o.path(name), o.errors(), out);
}

void decodeStringElement(const json& j, const FieldPath& path, ErrorList& errors,
                         std::string& out) {
  api::decodeInto(j, path, errors, out);
}

void decodePortElement(const json& j, const FieldPath& path, ErrorList& errors, uint16_t& out) {
  decodePort(j, path, errors, out);
}

void decodeAllowRule(const json& j, const FieldPath& path, ErrorList& errors,
                     api::AuthorizationRule& out) {
  const StrictObject o(j, path, errors, {"namespace", "serviceAccount"});
  readOptionalString(o, "namespace", out.namespace_);
  readOptionalString(o, "serviceAccount", out.serviceAccount);
}

void decodeMeshOutbound(const json& j, const FieldPath& path, ErrorList& errors,
                        MeshOutboundService& out) {
  const StrictObject o(
      j, path, errors,
      {"name", "namespace", "addresses", "ports", "tcpPorts", "hosts", "identity", "allowed"});
  readString(o, "name", out.name);
  readString(o, "namespace", out.namespace_);
  readList<std::string>(o, "addresses", out.addresses, decodeStringElement);
  readList<uint16_t>(o, "ports", out.ports, decodePortElement);
  readList<uint16_t>(o, "tcpPorts", out.tcpPorts, decodePortElement);
  readList<std::string>(o, "hosts", out.hosts, decodeStringElement);
  readString(o, "identity", out.identity);
  readBool(o, "allowed", out.allowed);
}

void decodeMeshInbound(const json& j, const FieldPath& path, ErrorList& errors,
                       MeshInboundPort& out) {
  const StrictObject o(j, path, errors, {"port", "mtlsMode", "allow", "service", "http2", "tcp"});
  readPort(o, "port", out.port);
  if (const json* mode = o.find("mtlsMode")) {
    const std::size_t before = errors.size();
    api::decodeInto(*mode, o.path("mtlsMode"), errors, out.mtlsMode);
    if (errors.size() == before) {
      api::validateEnum(
          out.mtlsMode,
          {std::string(api::mtls_mode::kStrict), std::string(api::mtls_mode::kPermissive),
           std::string(api::mtls_mode::kDisabled)},
          o.path("mtlsMode"), errors);
    }
  }
  // Absent (or null): anyone of the mesh; an empty array: nobody. The two must not collapse.
  if (o.find("allow") != nullptr) {
    std::vector<api::AuthorizationRule> rules;
    readList<api::AuthorizationRule>(o, "allow", rules, decodeAllowRule);
    out.allow = std::move(rules);
  }
  readString(o, "service", out.service);
  readBool(o, "http2", out.http2);
  readBool(o, "tcp", out.tcp);
}

}  // namespace

void decodeMesh(const json& j, const FieldPath& path, ErrorList& errors, MeshConfig& out) {
  const StrictObject o(j, path, errors, {"identity", "trustDomain", "outbound", "inbound"});
  readString(o, "identity", out.identity);
  readString(o, "trustDomain", out.trustDomain);
  readList<MeshOutboundService>(o, "outbound", out.outbound, decodeMeshOutbound);
  readList<MeshInboundPort>(o, "inbound", out.inbound, decodeMeshInbound);
}

json encodeMesh(const MeshConfig& mesh) {
  json outbound = json::array();
  for (const auto& o : mesh.outbound) {
    outbound.push_back({{"name", o.name},
                        {"namespace", o.namespace_},
                        {"addresses", o.addresses},
                        {"ports", o.ports},
                        {"hosts", o.hosts},
                        {"identity", o.identity},
                        {"allowed", o.allowed}});
    if (!o.tcpPorts.empty()) outbound.back()["tcpPorts"] = o.tcpPorts;
  }
  json inbound = json::array();
  for (const auto& i : mesh.inbound) {
    json port = {{"port", i.port}, {"mtlsMode", i.mtlsMode}, {"service", i.service}};
    if (i.http2) port["http2"] = true;
    if (i.tcp) port["tcp"] = true;
    if (i.allow) {
      json allow = json::array();
      for (const auto& rule : *i.allow) {
        json r = json::object();
        if (rule.namespace_) r["namespace"] = *rule.namespace_;
        if (rule.serviceAccount) r["serviceAccount"] = *rule.serviceAccount;
        allow.push_back(std::move(r));
      }
      port["allow"] = std::move(allow);
    }
    inbound.push_back(std::move(port));
  }
  return {{"identity", mesh.identity},
          {"trustDomain", mesh.trustDomain},
          {"outbound", std::move(outbound)},
          {"inbound", std::move(inbound)}};
}

}  // namespace meshgate::api
