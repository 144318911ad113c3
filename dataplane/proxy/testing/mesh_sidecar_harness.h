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

}  // namespace meshgate::dp::testing
