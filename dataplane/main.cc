// meshgate-proxy: the gateway proxy — see docs/PROXY_CONFIG.md — and the mesh sidecar
// (sidecar_server.h, docs/MESH.md).
//   meshgate-proxy --config proxy.yaml [--concurrency N] [--log-level info] [--no-watch]
//   meshgate-proxy --mode gateway --control-plane https://HOST:15012 --cert-dir DIR
//                  [--ingress-class meshgate] [--node gateway~<hostname>] [--snapshot-file PATH]
//                  [--http-address 0.0.0.0:8080] [--https-address 0.0.0.0:8443]
//                  [--admin-address 127.0.0.1:15000] [--access-log PATH]
//   meshgate-proxy --mode sidecar --cert-dir DIR
//                  [--control-plane https://HOST:15012 | --config FILE]
//                  [--node sidecar~<hostname>] [--admin-address 0.0.0.0:15000]
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "api/config_stream_protocol.h"
#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/sidecar_server.h"
#include "metrics/bind_address.h"

namespace {

int usageError(const std::string& message) {
  std::fprintf(stderr, "meshgate-proxy: %s\n", message.c_str());
  return 2;
}

std::string hostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

meshgate::Expected<meshgate::dp::ListenAddress, std::string> parseListenAddress(
    const std::string& flag, const std::string& value) {
  auto endpoint = metrics::parseBindAddress(value);
  if (!endpoint) return flag + " \"" + value + "\": " + endpoint.error();
  return meshgate::dp::ListenAddress{endpoint->address().to_string(), endpoint->port()};
}

}  // namespace

int main(int argc, char** argv) {
  meshgate::dp::ProxyServerOptions options;
  options.concurrency = std::max(1u, std::thread::hardware_concurrency());
  std::string logLevel = "info";
  bool noWatch = false;
  std::string mode;
  std::string controlPlane;
  std::string certDir;
  std::string ingressClass = "meshgate";
  std::string node = "gateway~" + hostName();
  std::string snapshotFile;
  std::string httpAddress = "0.0.0.0:8080";
  std::string httpsAddress = "0.0.0.0:8443";
  std::string adminAddress = "127.0.0.1:15000";
  std::string accessLog;

  CLI::App app{"meshgate-proxy: the meshgate gateway proxy and mesh sidecar"};
  app.add_option("--config", options.configPath, "Config file (YAML or JSON); file mode");
  app.add_option("--mode", mode, "file (default with --config), gateway, or sidecar")
      ->check(CLI::IsMember({"file", "gateway", "sidecar"}));
  auto* controlPlaneOption = app.add_option(
      "--control-plane", controlPlane,
      "Gateway and sidecar mode: the operator's config stream, https://HOST:PORT (sidecar mode "
      "does not connect yet)");
  auto* certDirOption = app.add_option(
      "--cert-dir", certDir,
      "Gateway and sidecar mode: directory with ca.crt, tls.crt and tls.key (sidecar mode: the "
      "workload identity, which may be empty until a MeshService uses the service account)");
  auto* ingressClassOption =
      app.add_option("--ingress-class", ingressClass,
                     "Gateway mode: the ApiRoutes to serve (by ingressClassName)");
  auto* nodeOption =
      app.add_option("--node", node,
                     "Gateway and sidecar mode: this proxy's name (default gateway~<hostname> or "
                     "sidecar~<hostname>)");
  auto* snapshotFileOption =
      app.add_option("--snapshot-file", snapshotFile,
                     "Gateway mode: keep the last applied snapshot here (mode 0600)");
  auto* httpOption = app.add_option("--http-address", httpAddress,
                                    "Gateway mode: address of the listener named http");
  auto* httpsOption = app.add_option("--https-address", httpsAddress,
                                     "Gateway mode: address of the listener named https");
  auto* adminOption = app.add_option(
      "--admin-address", adminAddress,
      "Gateway and sidecar mode: the admin listener's address (default 127.0.0.1:15000; sidecar "
      "mode 0.0.0.0:15000, for the kubelet's probes)");
  auto* accessLogOption =
      app.add_option("--access-log", accessLog, "Gateway mode: enable the access log at this path");
  auto* concurrencyOption =
      app.add_option("--concurrency", options.concurrency,
                     "Worker threads (default: cores; sidecar mode: at most 2, as Istio's)")
          ->check(CLI::Range(1, 256));
  app.add_option("--log-level", logLevel, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  auto* noWatchOption = app.add_flag("--no-watch", noWatch,
                                     "File mode: reload only on SIGHUP, not when the file changes");
  CLI11_PARSE(app, argc, argv);
  options.watchFile = !noWatch;

  if (mode.empty()) {
    if (options.configPath.empty())
      return usageError("--config FILE, --mode gateway or --mode sidecar is required (see --help)");
    mode = "file";
  }
  std::optional<meshgate::dp::SidecarOptions> sidecar;
  if (mode == "sidecar") {
    if (!options.configPath.empty() && controlPlaneOption->count() > 0)
      return usageError(
          "--config and --control-plane exclude each other in sidecar mode (a static mesh config "
          "or the operator's)");
    for (const auto* gatewayOnly :
         {ingressClassOption, snapshotFileOption, httpOption, httpsOption, accessLogOption})
      if (gatewayOnly->count() > 0)
        return usageError(gatewayOnly->get_name() + " is only valid with --mode gateway");
    if (noWatchOption->count() > 0) return usageError("--no-watch is only valid with --mode file");
    if (certDir.empty()) return usageError("--mode sidecar requires --cert-dir DIR");
    sidecar.emplace();
    if (controlPlaneOption->count() > 0) {
      auto endpoint = meshgate::dp::parseControlPlaneUrl(controlPlane);
      if (!endpoint) return usageError(endpoint.error());
      sidecar->controlPlane = std::move(*endpoint);
    }
    if (nodeOption->count() == 0) node = "sidecar~" + hostName();
    if (node.empty()) return usageError("--node must not be empty");
    if (adminOption->count() == 0) adminAddress = "0.0.0.0:15000";
    if (auto admin = parseListenAddress("--admin-address", adminAddress); !admin)
      return usageError(admin.error());
    sidecar->certDir = certDir;
    sidecar->configPath = options.configPath;
    sidecar->node = node;
    sidecar->adminAddress = adminAddress;
    sidecar->concurrency = concurrencyOption->count() > 0
                               ? options.concurrency
                               : std::min<size_t>(2, options.concurrency);
  } else if (mode == "file") {
    if (options.configPath.empty()) return usageError("--mode file requires --config FILE");
    for (const auto* gatewayOnly :
         {ingressClassOption, snapshotFileOption, httpOption, httpsOption, accessLogOption})
      if (gatewayOnly->count() > 0)
        return usageError(gatewayOnly->get_name() + " is only valid with --mode gateway");
    for (const auto* streamOnly : {controlPlaneOption, certDirOption, nodeOption, adminOption})
      if (streamOnly->count() > 0)
        return usageError(streamOnly->get_name() + " is only valid with --mode gateway or sidecar");
  } else {
    if (!options.configPath.empty())
      return usageError(
          "--config cannot be used with --mode gateway (the operator streams the config)");
    if (controlPlane.empty())
      return usageError("--mode gateway requires --control-plane https://HOST:PORT");
    if (certDir.empty()) return usageError("--mode gateway requires --cert-dir DIR");
    auto endpoint = meshgate::dp::parseControlPlaneUrl(controlPlane);
    if (!endpoint) return usageError(endpoint.error());
    if (ingressClass.empty()) return usageError("--ingress-class must not be empty");
    if (node.empty()) return usageError("--node must not be empty");
    meshgate::dp::GatewayOptions gateway;
    gateway.stream.endpoint = std::move(*endpoint);
    gateway.stream.certDir = certDir;
    gateway.stream.hello = {.node = node,
                            .mode = std::string(meshgate::api::stream::kModeGateway),
                            .ingressClass = ingressClass,
                            .version = "",
                            .proxyVersion = meshgate::dp::kProxyVersion};
    gateway.snapshotFile = snapshotFile;
    auto http = parseListenAddress("--http-address", httpAddress);
    if (!http) return usageError(http.error());
    auto https = parseListenAddress("--https-address", httpsAddress);
    if (!https) return usageError(https.error());
    auto admin = parseListenAddress("--admin-address", adminAddress);
    if (!admin) return usageError(admin.error());
    gateway.overrides.http = *http;
    gateway.overrides.https = *https;
    gateway.overrides.admin = *admin;
    if (!accessLog.empty()) {
      if (accessLog.front() != '/') return usageError("--access-log must be an absolute path");
      gateway.overrides.accessLogPath = accessLog;
    }
    options.gateway = std::move(gateway);
  }

  spdlog::set_level(spdlog::level::from_str(logLevel));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  // A client that disconnects mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  if (sidecar) {
    auto server = meshgate::dp::SidecarServer::create(std::move(*sidecar));
    if (!server) return usageError(server.error());
    return (*server)->run();
  }
  meshgate::dp::ProxyServer server(std::move(options));
  return server.run();
}
