// ProxyConfig codec; see proxy_config_codec.h. Field order follows docs/PROXY_CONFIG.md.
#include "api/proxy_config_codec.h"

#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/api_route_codec.h"
#include "api/duration.h"
#include "api/json_object_codec.h"
#include "api/proxy_config_mesh_codec.h"
#include "api/retries_codec.h"
#include "api/strict_json_reader.h"
#include "api/traffic_policy_codec.h"
#include "api/value_rules.h"

namespace meshgate::api {
namespace {

using api::ErrorList;
using api::FieldError;
using api::FieldPath;
using nlohmann::json;

constexpr std::string_view kDefaultRouteNamespace = "default";

using namespace strict_json;

// The traffic-policy objects of a cluster are MeshService's (decoded by the api codec), but in a
// config file an unknown field is still an error, so their field names are checked here first.
void decodeLoadBalancer(const json& j, const FieldPath& path, ErrorList& errors,
                        api::LoadBalancer& out) {
  rejectUnknownFields(j, path, {"policy", "hash"}, errors);
  if (j.is_object()) {
    if (const auto hash = j.find("hash"); hash != j.end()) {
      rejectUnknownFields(*hash, path.child("hash"), {"header", "cookie", "sourceIP"}, errors);
    }
  }
  api::decodeInto(j, path, errors, out);
}

void decodeHealthCheck(const json& j, const FieldPath& path, ErrorList& errors,
                       api::HealthCheck& out) {
  rejectUnknownFields(
      j, path, {"path", "interval", "timeout", "healthyThreshold", "unhealthyThreshold"}, errors);
  api::decodeInto(j, path, errors, out);
}

void decodeOutlierDetection(const json& j, const FieldPath& path, ErrorList& errors,
                            api::OutlierDetection& out) {
  rejectUnknownFields(
      j, path, {"consecutiveErrors", "interval", "baseEjectionTime", "maxEjectionPercent"}, errors);
  api::decodeInto(j, path, errors, out);
}

void decodeCircuitBreaker(const json& j, const FieldPath& path, ErrorList& errors,
                          api::CircuitBreaker& out) {
  rejectUnknownFields(
      j, path, {"maxConnections", "maxPendingRequests", "maxRequests", "maxRetries"}, errors);
  api::decodeInto(j, path, errors, out);
}

void decodeRetries(const json& j, const FieldPath& path, ErrorList& errors, api::Retries& out) {
  rejectUnknownFields(j, path, {"attempts", "perTryTimeout", "retryOn", "backoff"}, errors);
  if (j.is_object()) {
    if (const auto backoff = j.find("backoff"); backoff != j.end()) {
      rejectUnknownFields(*backoff, path.child("backoff"), {"base", "max"}, errors);
    }
  }
  api::decodeInto(j, path, errors, out);
}

void decodeCertificate(const json& j, const FieldPath& path, ErrorList& errors,
                       TlsCertificate& out) {
  const StrictObject o(j, path, errors, {"certFile", "keyFile", "certificatePem", "privateKeyPem"});
  readString(o, "certFile", out.certFile);
  readString(o, "keyFile", out.keyFile);
  readString(o, "certificatePem", out.certificatePem);
  readString(o, "privateKeyPem", out.privateKeyPem);
}

void decodeListenerTls(const json& j, const FieldPath& path, ErrorList& errors, ListenerTls& out) {
  const StrictObject o(j, path, errors, {"minVersion", "certificates"});
  readString(o, "minVersion", out.minVersion);
  readList<TlsCertificate>(o, "certificates", out.certificates, decodeCertificate);
}

void decodeTcpProxy(const json& j, const FieldPath& path, ErrorList& errors, TcpProxyConfig& out) {
  const StrictObject o(j, path, errors, {"cluster", "namespace", "port", "idleTimeout"});
  readString(o, "cluster", out.cluster);
  readString(o, "namespace", out.namespace_);
  readInteger(o, "port", 1, 65535, out.port);
  readDuration(o, "idleTimeout", out.idleTimeout);
}

void decodeServerName(const json& j, const FieldPath& path, ErrorList& errors, std::string& out) {
  api::decodeInto(j, path, errors, out);
}

void decodePassthroughRoute(const json& j, const FieldPath& path, ErrorList& errors,
                            TlsPassthroughRoute& out) {
  const StrictObject o(j, path, errors,
                       {"serverNames", "cluster", "namespace", "port", "idleTimeout"});
  readList<std::string>(o, "serverNames", out.serverNames, decodeServerName);
  readString(o, "cluster", out.cluster);
  readString(o, "namespace", out.namespace_);
  readInteger(o, "port", 1, 65535, out.port);
  readDuration(o, "idleTimeout", out.idleTimeout);
}

void decodeListener(const json& j, const FieldPath& path, ErrorList& errors, ListenerConfig& out) {
  const StrictObject o(j, path, errors,
                       {"name", "address", "port", "tls", "tcp", "tlsPassthrough"});
  readString(o, "name", out.name);
  readString(o, "address", out.address);
  readInteger(o, "port", 0, 65535, out.port);
  if (const json* tls = o.find("tls")) {
    ListenerTls value;
    decodeListenerTls(*tls, o.path("tls"), errors, value);
    out.tls = std::move(value);
  }
  readOptionalApi(o, "tcp", out.tcp, decodeTcpProxy);
  readList<TlsPassthroughRoute>(o, "tlsPassthrough", out.tlsPassthrough, decodePassthroughRoute);
}

void decodeRoute(const json& j, const FieldPath& path, ErrorList& errors, api::ApiRoute& out) {
  // The entry itself is strict (a misspelt `spec` would drop the whole route); inside metadata and
  // spec the api decoder's rules apply.
  rejectUnknownFields(j, path, {"apiVersion", "kind", "metadata", "spec"}, errors);
  auto decoded = api::decodeApiRoute(j);
  for (api::FieldError& e : decoded.errors) {
    e.field = e.field.empty() ? path.str() : path.str() + "." + e.field;
    errors.push_back(std::move(e));
  }
  if (!decoded.object) return;
  out = std::move(*decoded.object);
  if (out.metadata.namespace_.empty()) out.metadata.namespace_ = kDefaultRouteNamespace;
}

void decodeEndpoint(const json& j, const FieldPath& path, ErrorList& errors, ClusterEndpoint& out) {
  const StrictObject o(j, path, errors, {"address", "port", "weight", "labels"});
  readString(o, "address", out.address);
  readOptionalInteger(o, "port", 1, 65535, out.port);
  readInteger(o, "weight", 1, 1000, out.weight);
  readLabels(o, "labels", out.labels);
}

void decodeSubset(const json& j, const FieldPath& path, ErrorList& errors, ClusterSubset& out) {
  const StrictObject o(j, path, errors, {"name", "labels"});
  readString(o, "name", out.name);
  readLabels(o, "labels", out.labels);
}

void decodeUpstreamTls(const json& j, const FieldPath& path, ErrorList& errors, UpstreamTls& out) {
  const StrictObject o(j, path, errors, {"serverName", "caFile"});
  readString(o, "serverName", out.serverName);
  readOptionalString(o, "caFile", out.caFile);
}

void decodePool(const json& j, const FieldPath& path, ErrorList& errors, PoolConfig& out) {
  const StrictObject o(j, path, errors, {"maxIdlePerEndpoint", "idleTimeout"});
  readInteger(o, "maxIdlePerEndpoint", 0, 10000, out.maxIdlePerEndpoint);
  readDuration(o, "idleTimeout", out.idleTimeout);
}

// {"80": 8080}: JSON object keys are strings, so the service port is a decimal key.
void decodeTargetPorts(const json& j, const FieldPath& path, ErrorList& errors,
                       std::map<uint16_t, uint16_t>& out) {
  if (!j.is_object()) {
    errors.push_back(FieldError::invalid(path, j, "expected an object"));
    return;
  }
  for (const auto& [key, value] : j.items()) {
    const FieldPath item = path.key(key);
    const bool numeric = !key.empty() && key.size() <= 5 &&
                         key.find_first_not_of("0123456789") == std::string::npos &&
                         std::stoul(key) >= 1 && std::stoul(key) <= 65535;
    if (!numeric) {
      errors.push_back(FieldError::invalid(item, key, "expected a port number from 1 to 65535"));
      continue;
    }
    uint16_t port = 0;
    if (!decodeInteger(value, item, errors, 1, 65535, port)) continue;
    if (port == 0) {
      errors.push_back(FieldError::invalid(item, value, "must be between 1 and 65535, inclusive"));
      continue;
    }
    out[static_cast<uint16_t>(std::stoul(key))] = port;
  }
}

void decodeCluster(const json& j, const FieldPath& path, ErrorList& errors, ClusterConfig& out) {
  const StrictObject o(j, path, errors,
                       {"name", "namespace", "targetPorts", "endpoints", "subsets", "loadBalancer",
                        "healthCheck", "outlierDetection", "circuitBreaker", "timeout", "retries",
                        "connectTimeout", "tls", "meshIdentity", "http2Ports", "pool"});
  readString(o, "name", out.name);
  readString(o, "namespace", out.namespace_);
  if (const json* ports = o.find("targetPorts"))
    decodeTargetPorts(*ports, o.path("targetPorts"), errors, out.targetPorts);
  readList<ClusterEndpoint>(o, "endpoints", out.endpoints, decodeEndpoint);
  readList<ClusterSubset>(o, "subsets", out.subsets, decodeSubset);
  if (const json* lb = o.find("loadBalancer")) {
    decodeLoadBalancer(*lb, o.path("loadBalancer"), errors, out.loadBalancer);
  }
  readOptionalApi(o, "healthCheck", out.healthCheck, decodeHealthCheck);
  readOptionalApi(o, "outlierDetection", out.outlierDetection, decodeOutlierDetection);
  if (const json* cb = o.find("circuitBreaker")) {
    decodeCircuitBreaker(*cb, o.path("circuitBreaker"), errors, out.circuitBreaker);
  }
  readOptionalDuration(o, "timeout", out.timeout);
  readOptionalApi(o, "retries", out.retries, decodeRetries);
  readDuration(o, "connectTimeout", out.connectTimeout);
  readOptionalApi(o, "tls", out.tls, decodeUpstreamTls);
  readOptionalString(o, "meshIdentity", out.meshIdentity);
  if (const json* ports = o.find("http2Ports")) {
    const FieldPath listPath = o.path("http2Ports");
    if (!ports->is_array()) {
      errors.push_back(FieldError::invalid(listPath, *ports, "expected a list of ports"));
    } else {
      for (std::size_t i = 0; i < ports->size(); ++i) {
        uint16_t port = 0;
        if (decodeInteger((*ports)[i], listPath.index(i), errors, 1, 65535, port))
          out.http2Ports.push_back(port);
      }
    }
  }
  if (const json* pool = o.find("pool")) decodePool(*pool, o.path("pool"), errors, out.pool);
}

void decodeTimeouts(const json& j, const FieldPath& path, ErrorList& errors, TimeoutsConfig& out) {
  const StrictObject o(j, path, errors, {"headerRead", "idle", "request", "drain"});
  readDuration(o, "headerRead", out.headerRead);
  readDuration(o, "idle", out.idle);
  readDuration(o, "request", out.request);
  readDuration(o, "drain", out.drain);
}

void decodeLimits(const json& j, const FieldPath& path, ErrorList& errors, LimitsConfig& out) {
  const StrictObject o(
      j, path, errors,
      {"maxRequestLineBytes", "maxHeaderBytes", "maxHeaders", "maxBodyBytes", "maxRetryBufferBytes",
       "maxConnections", "maxBufferedBodyBytes", "maxRateLimitKeys"});
  readInteger(o, "maxRequestLineBytes", kMinRequestLineBytes, kMaxRequestLineBytes,
              out.maxRequestLineBytes);
  readInteger(o, "maxHeaderBytes", kMinHeaderBytes, kMaxHeaderBytes, out.maxHeaderBytes);
  readInteger(o, "maxHeaders", 1, kMaxHeaders, out.maxHeaders);
  readInteger(o, "maxBodyBytes", 1, kMaxBodyBytes, out.maxBodyBytes);
  readInteger(o, "maxRetryBufferBytes", 0, kMaxRetryBufferBytes, out.maxRetryBufferBytes);
  readInteger(o, "maxConnections", 1, kMaxConnections, out.maxConnections);
  readInteger(o, "maxBufferedBodyBytes", 1, kMaxBufferedBodyBytes, out.maxBufferedBodyBytes);
  readInteger(o, "maxRateLimitKeys", 1, kMaxRateLimitKeys, out.maxRateLimitKeys);
}

void decodeAuthSettings(const json& j, const FieldPath& path, ErrorList& errors,
                        AuthSettings& out) {
  const StrictObject o(j, path, errors,
                       {"clockSkew", "maxTokenBytes", "jwksRefreshInterval", "jwksFetchTimeout",
                        "verifiedTokenCacheSize"});
  readDuration(o, "clockSkew", out.clockSkew);
  readInteger(o, "maxTokenBytes", kMinTokenBytes, kMaxTokenBytes, out.maxTokenBytes);
  readDuration(o, "jwksRefreshInterval", out.jwksRefreshInterval);
  readDuration(o, "jwksFetchTimeout", out.jwksFetchTimeout);
  readInteger(o, "verifiedTokenCacheSize", 0, kMaxVerifiedTokenCache, out.verifiedTokenCacheSize);
}

void decodeSecret(const json& j, const FieldPath& path, ErrorList& errors, SecretConfig& out) {
  const StrictObject o(j, path, errors, {"name", "namespace", "data", "files"});
  readString(o, "name", out.name);
  readString(o, "namespace", out.namespace_);
  readLabels(o, "data", out.data);
  readLabels(o, "files", out.files);
}

void decodeAccessLog(const json& j, const FieldPath& path, ErrorList& errors,
                     AccessLogConfig& out) {
  const StrictObject o(j, path, errors, {"enabled", "path"});
  readBool(o, "enabled", out.enabled);
  readString(o, "path", out.path);
}

void decodeAdmin(const json& j, const FieldPath& path, ErrorList& errors, AdminConfig& out) {
  const StrictObject o(j, path, errors, {"address", "port"});
  readString(o, "address", out.address);
  readInteger(o, "port", 0, 65535, out.port);
}

void decodeConfig(const json& j, ErrorList& errors, ProxyConfig& out) {
  const StrictObject o(j, FieldPath(), errors,
                       {"version", "admin", "listeners", "routes", "clusters", "secrets", "auth",
                        "timeouts", "limits", "accessLog", "mesh"});
  readString(o, "version", out.version);
  if (const json* admin = o.find("admin")) decodeAdmin(*admin, o.path("admin"), errors, out.admin);
  readList<ListenerConfig>(o, "listeners", out.listeners, decodeListener);
  readList<api::ApiRoute>(o, "routes", out.routes, decodeRoute);
  readList<ClusterConfig>(o, "clusters", out.clusters, decodeCluster);
  readList<SecretConfig>(o, "secrets", out.secrets, decodeSecret);
  if (const json* a = o.find("auth")) decodeAuthSettings(*a, o.path("auth"), errors, out.auth);
  if (const json* t = o.find("timeouts"))
    decodeTimeouts(*t, o.path("timeouts"), errors, out.timeouts);
  if (const json* l = o.find("limits")) decodeLimits(*l, o.path("limits"), errors, out.limits);
  if (const json* a = o.find("accessLog")) {
    decodeAccessLog(*a, o.path("accessLog"), errors, out.accessLog);
  }
  if (const json* m = o.find("mesh")) {
    MeshConfig mesh;
    decodeMesh(*m, o.path("mesh"), errors, mesh);
    out.mesh = std::move(mesh);
  }
}

// Encoding. Durations print canonically; a negative one (only possible when built in code, and
// refused by the validator) keeps its sign so the dump does not hide it.
std::string durationText(Millis value) {
  if (value.count() < 0) return "-" + api::Duration(-value).format();
  return api::Duration(value).format();
}

json encodeRoute(const api::ApiRoute& route) {
  json j = api::encodeApiRoute(route);
  // Config files carry bare {metadata, spec} entries; the proxy keeps no route status.
  j.erase("apiVersion");
  j.erase("kind");
  j.erase("status");
  return j;
}

json encodeListener(const ListenerConfig& l, SecretEncoding secrets) {
  json j = {{"name", l.name}, {"address", l.address}, {"port", l.port}};
  if (l.tls) {
    json certificates = json::array();
    for (const auto& c : l.tls->certificates) {
      json certificate = json::object();
      if (!c.certFile.empty()) certificate["certFile"] = c.certFile;
      if (!c.keyFile.empty()) certificate["keyFile"] = c.keyFile;
      if (!c.certificatePem.empty()) certificate["certificatePem"] = c.certificatePem;
      if (!c.privateKeyPem.empty()) {
        certificate["privateKeyPem"] =
            secrets == SecretEncoding::kRedact ? std::string(kRedacted) : c.privateKeyPem;
      }
      certificates.push_back(std::move(certificate));
    }
    j["tls"] = {{"minVersion", l.tls->minVersion}, {"certificates", std::move(certificates)}};
  }
  if (l.tcp) {
    json tcp = {{"cluster", l.tcp->cluster},
                {"port", l.tcp->port},
                {"idleTimeout", durationText(l.tcp->idleTimeout)}};
    if (!l.tcp->namespace_.empty()) tcp["namespace"] = l.tcp->namespace_;
    j["tcp"] = std::move(tcp);
  }
  if (!l.tlsPassthrough.empty()) {
    json routes = json::array();
    for (const auto& route : l.tlsPassthrough) {
      json r = {{"serverNames", route.serverNames},
                {"cluster", route.cluster},
                {"port", route.port},
                {"idleTimeout", durationText(route.idleTimeout)}};
      if (!route.namespace_.empty()) r["namespace"] = route.namespace_;
      routes.push_back(std::move(r));
    }
    j["tlsPassthrough"] = std::move(routes);
  }
  return j;
}

json encodeCluster(const ClusterConfig& c) {
  json endpoints = json::array();
  for (const auto& e : c.endpoints) {
    json ep = {{"address", e.address}, {"weight", e.weight}};
    if (e.port) ep["port"] = *e.port;
    if (!e.labels.empty()) ep["labels"] = e.labels;
    endpoints.push_back(std::move(ep));
  }
  json j = {{"name", c.name},
            {"endpoints", std::move(endpoints)},
            {"loadBalancer", c.loadBalancer},
            {"circuitBreaker", c.circuitBreaker},
            {"connectTimeout", durationText(c.connectTimeout)},
            {"pool",
             {{"maxIdlePerEndpoint", c.pool.maxIdlePerEndpoint},
              {"idleTimeout", durationText(c.pool.idleTimeout)}}}};
  if (!c.namespace_.empty()) j["namespace"] = c.namespace_;
  if (!c.targetPorts.empty()) {
    json ports = json::object();
    for (const auto& [port, target] : c.targetPorts)
      ports[std::to_string(port)] = target;
    j["targetPorts"] = std::move(ports);
  }
  if (!c.subsets.empty()) {
    json subsets = json::array();
    for (const auto& s : c.subsets)
      subsets.push_back({{"name", s.name}, {"labels", s.labels}});
    j["subsets"] = std::move(subsets);
  }
  if (c.healthCheck) j["healthCheck"] = *c.healthCheck;
  if (c.outlierDetection) j["outlierDetection"] = *c.outlierDetection;
  if (c.timeout) j["timeout"] = durationText(*c.timeout);
  if (c.retries) j["retries"] = *c.retries;
  if (c.tls) {
    json tls = {{"serverName", c.tls->serverName}};
    if (c.tls->caFile) tls["caFile"] = *c.tls->caFile;
    j["tls"] = std::move(tls);
  }
  if (c.meshIdentity) j["meshIdentity"] = *c.meshIdentity;
  if (!c.http2Ports.empty()) j["http2Ports"] = c.http2Ports;
  return j;
}

}  // namespace

api::DecodeResult<ProxyConfig> decodeProxyConfig(const json& j) {
  api::DecodeResult<ProxyConfig> result;
  try {
    ProxyConfig out;
    decodeConfig(j, result.errors, out);
    if (result.errors.empty()) result.object = std::move(out);
  } catch (const std::exception& e) {
    result.object.reset();
    result.errors = {FieldError::internal(FieldPath(), e.what())};
  }
  return result;
}

// A secret's values are the secret part: with kRedact every value reads <redacted> (its keys and
// file paths stay, so a dump still shows what is there).
json encodeSecret(const SecretConfig& secret, SecretEncoding secrets) {
  json data = json::object();
  for (const auto& [key, value] : secret.data)
    data[key] = secrets == SecretEncoding::kRedact ? std::string(kRedacted) : value;
  json j = {{"name", secret.name}, {"data", std::move(data)}};
  if (!secret.namespace_.empty()) j["namespace"] = secret.namespace_;
  if (!secret.files.empty()) j["files"] = secret.files;
  return j;
}

json encodeProxyConfig(const ProxyConfig& config, SecretEncoding secrets) {
  json listeners = json::array();
  for (const auto& l : config.listeners)
    listeners.push_back(encodeListener(l, secrets));
  json routes = json::array();
  for (const auto& r : config.routes)
    routes.push_back(encodeRoute(r));
  json clusters = json::array();
  for (const auto& c : config.clusters)
    clusters.push_back(encodeCluster(c));
  json secretList = json::array();
  for (const auto& s : config.secrets)
    secretList.push_back(encodeSecret(s, secrets));
  const auto& t = config.timeouts;
  const auto& l = config.limits;
  json out = {
      {"version", config.version},
      {"admin", {{"address", config.admin.address}, {"port", config.admin.port}}},
      {"listeners", std::move(listeners)},
      {"routes", std::move(routes)},
      {"clusters", std::move(clusters)},
      {"secrets", std::move(secretList)},
      {"auth",
       {{"clockSkew", durationText(config.auth.clockSkew)},
        {"maxTokenBytes", config.auth.maxTokenBytes},
        {"jwksRefreshInterval", durationText(config.auth.jwksRefreshInterval)},
        {"jwksFetchTimeout", durationText(config.auth.jwksFetchTimeout)},
        {"verifiedTokenCacheSize", config.auth.verifiedTokenCacheSize}}},
      {"timeouts",
       {{"headerRead", durationText(t.headerRead)},
        {"idle", durationText(t.idle)},
        {"request", durationText(t.request)},
        {"drain", durationText(t.drain)}}},
      {"limits",
       {{"maxRequestLineBytes", l.maxRequestLineBytes},
        {"maxHeaderBytes", l.maxHeaderBytes},
        {"maxHeaders", l.maxHeaders},
        {"maxBodyBytes", l.maxBodyBytes},
        {"maxRetryBufferBytes", l.maxRetryBufferBytes},
        {"maxConnections", l.maxConnections},
        {"maxBufferedBodyBytes", l.maxBufferedBodyBytes},
        {"maxRateLimitKeys", l.maxRateLimitKeys}}},
      {"accessLog", {{"enabled", config.accessLog.enabled}, {"path", config.accessLog.path}}}};
  if (config.mesh) out["mesh"] = encodeMesh(*config.mesh);
  return out;
}

}  // namespace meshgate::api
