// Sidecar: a meshgate sidecar (SidecarServer) on its own thread for in-process mesh tests, with
// its identity Secret volume, its own fake operator (FakeConfigServer) to stream it configs, and a
// substituted original-destination lookup where iptables would REDIRECT: every connection it
// accepts was "for" the endpoint setOriginal() last named. Header-only test code.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>

#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "api/config_stream_protocol.h"
#include "base/testing/eventually.h"
#include "dataplane/proxy/sidecar_server.h"
#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/gateway_harness.h"
#include "dataplane/proxy/testing/http_get.h"
#include "dataplane/proxy/testing/secret_volume.h"

namespace meshgate::dp::testing {

// A sidecar on its own thread: its identity volume, its fake operator, its original-destination
// lookup (what iptables would have recorded: `original` for every connection, unless unset).
class Sidecar {
  using tcp = boost::asio::ip::tcp;

 public:
  Sidecar(const StreamCertificates& ca, const std::string& name, const PemPair& identity)
      : operator_(ca.server(), ca.caPem()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("meshgate-mesh-" + name + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    volume_.emplace(root_ + "/identity");
    volume_->update({{"tls.crt", identity.certificatePem},
                     {"tls.key", identity.keyPem},
                     {"ca.crt", ca.caPem()}});
    SidecarOptions options;
    options.controlPlane = must(parseControlPlaneUrl(operator_.url()));
    options.certDir = volume_->path();
    options.node = "sidecar~" + name + ".shop";
    options.adminAddress = "127.0.0.1:0";
    options.listen = {.outboundAddress = "127.0.0.1",
                      .outboundPort = 0,
                      .inboundAddress = "127.0.0.1",
                      .inboundPort = 0};
    options.identityPollInterval = std::chrono::milliseconds(200);
    options.originalDestination = [this](tcp::socket&) -> std::optional<tcp::endpoint> {
      std::lock_guard lock(mutex_);
      return original_;
    };
    server_ = must(SidecarServer::create(std::move(options)));
    thread_ = std::thread([this] { server_->run(); });
    if (!::meshgate::testing::eventually([this] { return server_->adminPort() != 0; }))
      throw std::runtime_error("sidecar " + name + " did not start");
  }
  ~Sidecar() {
    server_->requestStop();
    thread_.join();
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }

  // Accepts the sidecar's stream, checks its Hello, sends `config` and waits for its Ack.
  void serve(const nlohmann::json& config) {
    if (!connected_) {
      ASSERT_EQ(operator_.accept(), "");
      const auto hello = api::stream::decodeClientMessage(operator_.readFrame().value_or(""));
      ASSERT_TRUE(hello) << hello.error();
      ASSERT_TRUE(std::holds_alternative<api::stream::Hello>(*hello));
      EXPECT_EQ(std::get<api::stream::Hello>(*hello).mode, "sidecar");
      connected_ = true;
    }
    ASSERT_TRUE(operator_.send(snapshotFrame(config)));
    const auto reply = api::stream::decodeClientMessage(operator_.readFrame().value_or(""));
    ASSERT_TRUE(reply) << reply.error();
    ASSERT_TRUE(std::holds_alternative<api::stream::Ack>(*reply))
        << "refused: " << nlohmann::json(std::get<api::stream::Nack>(*reply).errors).dump();
  }

  void setOriginal(std::optional<tcp::endpoint> original) {
    std::lock_guard lock(mutex_);
    original_ = original;
  }

  // The port a listener of the sidecar is bound to.
  uint16_t port(const std::string& listener) {
    const HttpResult page = adminGet("/config_dump");
    return nlohmann::json::parse(page.body)["boundPorts"].value(listener, uint16_t{0});
  }
  HttpResult adminGet(const std::string& target) {
    return testing::httpGet(server_->adminPort(), target, "localhost");
  }

 private:
  FakeConfigServer operator_;
  std::string root_;
  std::optional<SecretVolume> volume_;
  std::unique_ptr<SidecarServer> server_;
  std::thread thread_;
  std::mutex mutex_;
  std::optional<tcp::endpoint> original_;
  bool connected_ = false;
};

// The two workloads of the mesh tests: "web" calls "orders", both in namespace shop.
inline constexpr char kWebIdentity[] = "spiffe://cluster.local/ns/shop/sa/web";
inline constexpr char kOrdersIdentity[] = "spiffe://cluster.local/ns/shop/sa/orders";

// How orders' port is declared: HTTP (mesh `ports`, inbound plain) or TCP (`tcpPorts`, inbound
// `tcp: true`).
enum class MeshPortProtocol { kHttp, kTcp };

// web's config: orders callable (or not) at `vip`, its endpoint the orders sidecar's inbound
// listener (where iptables in orders' pod would have redirected pod-ip:port).
inline nlohmann::json webConfig(const std::string& version,
                                const boost::asio::ip::tcp::endpoint& vip, uint16_t ordersInbound,
                                MeshPortProtocol protocol, bool allowed = true,
                                const std::string& ordersIdentity = kOrdersIdentity) {
  const bool tcp = protocol == MeshPortProtocol::kTcp;
  nlohmann::json config = {
      {"version", version},
      {"mesh",
       {{"identity", kWebIdentity},
        {"trustDomain", "cluster.local"},
        {"outbound",
         {{{"name", "orders"},
           {"namespace", "shop"},
           {"addresses", {vip.address().to_string()}},
           {"ports", tcp ? nlohmann::json::array() : nlohmann::json::array({vip.port()})},
           {"tcpPorts", tcp ? nlohmann::json::array({vip.port()}) : nlohmann::json::array()},
           {"hosts", {"orders.shop.svc.cluster.local", "orders.shop.svc", "orders.shop", "orders"}},
           {"identity", ordersIdentity},
           {"allowed", allowed}}}},
        {"inbound", nlohmann::json::array()}}},
      {"clusters", nlohmann::json::array()}};
  if (allowed)
    config["clusters"].push_back(
        {{"name", "orders"},
         {"namespace", "shop"},
         {"targetPorts", {{std::to_string(vip.port()), ordersInbound}}},
         {"endpoints", {{{"address", "127.0.0.1"}, {"port", ordersInbound}}}}});
  return config;
}

// orders' config: its application port with `mode` and, when given, who may call.
inline nlohmann::json ordersConfig(const std::string& version, uint16_t appPort,
                                   const std::string& mode, MeshPortProtocol protocol,
                                   std::optional<nlohmann::json> allow = std::nullopt) {
  nlohmann::json port = {{"port", appPort}, {"mtlsMode", mode}, {"service", "shop/orders"}};
  if (protocol == MeshPortProtocol::kTcp) port["tcp"] = true;
  if (allow) port["allow"] = *allow;
  return {{"version", version},
          {"mesh",
           {{"identity", kOrdersIdentity},
            {"trustDomain", "cluster.local"},
            {"outbound", nlohmann::json::array()},
            {"inbound", {port}}}}};
}

}  // namespace meshgate::dp::testing
