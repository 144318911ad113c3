// A ProxyServer in gateway mode on a thread of its own, for in-process tests, header-only: its
// config comes from a fake operator (fake_config_server.h) at `url`, its --cert-dir is the
// gateway identity of `certs`, and every listener binds an ephemeral loopback port (read back
// from /config_dump). Stopped by the destructor as SIGTERM would.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/config_stream_protocol.h"
#include "base/testing/eventually.h"
#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/http_get.h"

namespace meshgate::dp::testing {

// The Snapshot frame a fake operator sends to carry `config`.
inline std::string snapshotFrame(const nlohmann::json& config) {
  return api::stream::encode(api::stream::ServerMessage(
      api::stream::Snapshot{config["version"].get<std::string>(), config}));
}

// A gateway config as the operator streams it: listener "http" (on a port the harness overrides)
// and one route for shop.example.com to port `servicePort` of cluster `cluster` (namespace shop),
// whose one endpoint is 127.0.0.1:endpointPort — a mesh cluster when `meshIdentity` is set.
inline nlohmann::json shopGatewayConfig(const std::string& version, const std::string& cluster,
                                        uint16_t servicePort, uint16_t endpointPort,
                                        const std::string& meshIdentity = "") {
  nlohmann::json config = {
      {"version", version},
      {"listeners", {{{"name", "http"}, {"address", "0.0.0.0"}, {"port", 8080}}}},
      {"routes",
       {{{"metadata", {{"name", "shop"}, {"namespace", "shop"}}},
         {"spec",
          {{"hosts", {"shop.example.com"}},
           {"rules", {{{"backends", {{{"service", cluster}, {"port", servicePort}}}}}}}}}}}},
      {"clusters",
       {{{"name", cluster},
         {"namespace", "shop"},
         {"endpoints", {{{"address", "127.0.0.1"}, {"port", endpointPort}}}}}}},
  };
  if (!meshIdentity.empty()) config["clusters"][0]["meshIdentity"] = meshIdentity;
  return config;
}

class GatewayHarness {
 public:
  GatewayHarness(const StreamCertificates& certs, const std::string& url,
                 const std::string& snapshotFile = {}) {
    using namespace std::chrono_literals;
    ProxyServerOptions options;
    options.concurrency = 1;
    GatewayOptions gateway;
    gateway.stream.endpoint = *parseControlPlaneUrl(url);
    gateway.stream.certDir = certs.certDir();
    gateway.stream.hello = {.node = "gateway~test",
                            .mode = std::string(api::stream::kModeGateway),
                            .ingressClass = "meshgate",
                            .version = "",
                            .proxyVersion = kProxyVersion};
    gateway.stream.backoffBase = 10ms;
    gateway.stream.backoffCap = 100ms;
    gateway.snapshotFile = snapshotFile;
    gateway.overrides.http = ListenAddress{"127.0.0.1", 0};
    gateway.overrides.https = ListenAddress{"127.0.0.1", 0};
    gateway.overrides.admin = ListenAddress{"127.0.0.1", 0};
    options.gateway = std::move(gateway);
    server_ = std::make_unique<ProxyServer>(std::move(options));
    thread_ = std::thread([this] { server_->run(); });
    if (!meshgate::testing::eventually([this] { return server_->adminPort() != 0; })) {
      server_->requestStop();
      thread_.join();
      throw std::runtime_error("the admin listener did not start");
    }
  }
  ~GatewayHarness() {
    server_->requestStop();
    thread_.join();
  }
  GatewayHarness(const GatewayHarness&) = delete;
  GatewayHarness& operator=(const GatewayHarness&) = delete;

  ProxyServer& server() { return *server_; }
  HttpResult admin(const std::string& target) {
    return httpGet(server_->adminPort(), target, "localhost");
  }
  nlohmann::json configDump() { return nlohmann::json::parse(admin("/config_dump").body); }
  uint16_t httpPort() { return configDump()["boundPorts"]["http"].get<uint16_t>(); }
  // A GET through the "http" listener.
  HttpResult get(const std::string& target, const std::string& host) {
    return httpGet(httpPort(), target, host);
  }

 private:
  std::unique_ptr<ProxyServer> server_;
  std::thread thread_;
};

}  // namespace meshgate::dp::testing
