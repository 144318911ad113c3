// The proxy side of the request-path tests (request_path_*_test.cc): a real ProxyServer in file
// mode (one worker, ephemeral loopback ports, no drain wait) built from a JSON config, the config
// pieces those tests vary, raw request texts, and the checks of a reply the proxy makes itself.
// Used on the test's thread; the proxy runs on a thread of its own.
#pragma once

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/testing/eventually.h"
#include "dataplane/proxy/proxy_server.h"
#include "dataplane/proxy/testing/raw_http_client.h"

namespace meshgate::dp::testing {

using json = nlohmann::json;

// ---- Config ----------------------------------------------------------------------------------

inline json backendRule(const std::string& cluster) {
  return {{"backends", json::array({{{"service", cluster}, {"port", 80}}})}};
}

inline json route(const std::string& name, const std::string& host, json rules) {
  return {{"metadata", {{"name", name}}},
          {"spec", {{"hosts", json::array({host})}, {"rules", std::move(rules)}}}};
}

inline json cluster(const std::string& name, uint16_t port) {
  return {{"name", name}, {"endpoints", json::array({{{"address", "127.0.0.1"}, {"port", port}}})}};
}

// Listener "http" and the admin endpoint on ephemeral loopback ports, no drain wait, and route
// "app": host app.test, every path, to cluster "app" at `upstreamPort`.
inline json proxyConfig(uint16_t upstreamPort) {
  json config;
  config["admin"] = {{"address", "127.0.0.1"}, {"port", 0}};
  config["listeners"] = json::array({{{"name", "http"}, {"address", "127.0.0.1"}, {"port", 0}}});
  config["routes"] = json::array({route("app", "app.test", json::array({backendRule("app")}))});
  config["clusters"] = json::array({cluster("app", upstreamPort)});
  config["timeouts"] = {{"drain", "0s"}};
  return config;
}

inline json& appRule(json& config) {
  return config["routes"][0]["spec"]["rules"][0];
}

// proxyConfig, with the upstream port called over HTTP/2 (the cluster's http2Ports).
inline json http2UpstreamConfig(uint16_t upstreamPort) {
  json config = proxyConfig(upstreamPort);
  config["clusters"][0]["http2Ports"] = {80};
  return config;
}

// A loopback port nothing listens on: bound, then closed.
inline uint16_t closedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("cannot bind a loopback port");
  ::close(fd);
  return ntohs(address.sin_port);
}

// ---- The proxy -------------------------------------------------------------------------------

// meshgate-proxy in file mode with `config`, run() on a thread of its own; stopped (no drain
// wait) when it goes.
class StandaloneProxy {
 public:
  explicit StandaloneProxy(const json& config) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meshgate-request-path-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    const std::string path = dir_ + "/proxy.json";
    std::ofstream(path) << config.dump(2);

    ProxyServerOptions options;
    options.configPath = path;
    options.concurrency = 1;
    options.watchFile = false;
    server_ = std::make_unique<ProxyServer>(std::move(options));
    thread_ = std::thread([this] {
      server_->run();
      exited_ = true;
    });
    if (!meshgate::testing::eventually([this] { return server_->adminPort() != 0 || exited_; }) ||
        exited_) {
      stop();
      throw std::runtime_error("the proxy did not start (its log says why)");
    }
    const std::optional<RawResponse> dump = admin("/config_dump");
    if (!dump || dump->status != 200) {
      stop();
      throw std::runtime_error("no /config_dump");
    }
    port_ = json::parse(dump->body)["boundPorts"]["http"].get<uint16_t>();
  }
  ~StandaloneProxy() { stop(); }
  StandaloneProxy(const StandaloneProxy&) = delete;
  StandaloneProxy& operator=(const StandaloneProxy&) = delete;

  // The port of listener "http".
  uint16_t port() const { return port_; }

  std::optional<RawResponse> admin(const std::string& target) {
    RawHttpClient client(server_->adminPort());
    if (!client.send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
      return std::nullopt;
    return client.readResponse();
  }
  std::string stats() {
    const auto page = admin("/stats");
    return page ? page->body : std::string();
  }

 private:
  void stop() {
    if (thread_.joinable()) {
      server_->requestStop();
      thread_.join();
    }
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_;
  std::unique_ptr<ProxyServer> server_;
  std::thread thread_;
  std::atomic<bool> exited_{false};
  uint16_t port_ = 0;
};

// ---- Requests and checks ---------------------------------------------------------------------

inline std::string request(std::string_view method, std::string_view target,
                           std::string_view host = "app.test", std::string_view extraHeaders = {}) {
  return std::string(method) + " " + std::string(target) +
         " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n" + std::string(extraHeaders) + "\r\n";
}
inline std::string get(std::string_view target, std::string_view host = "app.test") {
  return request("GET", target, host);
}

// What a local reply's connection does next.
enum class Then { KeepAlive, Close };

// Reads a reply the proxy made itself and checks its framing: the status line, a body of
// `body` (for HEAD: none) with a content-length of exactly its size, and the connection: closed
// right after the body when `then` is Close (and the head says so), open otherwise. A
// content-length that disagrees with the bytes sent shows up as a wrong body, a timeout, bytes
// after the body, or — for a kept connection — a next response that does not parse.
inline void expectLocalReply(RawHttpClient& client, std::string_view method,
                             std::string_view statusLine, std::string_view body, Then then) {
  const std::optional<RawResponse> reply = client.readResponse(method);
  ASSERT_TRUE(reply) << client.error();
  EXPECT_EQ(reply->statusLine, statusLine);
  EXPECT_EQ(reply->headerCount("content-length"), 1u) << reply->head;
  EXPECT_EQ(reply->header("content-length"), std::to_string(body.size())) << reply->head;
  EXPECT_EQ(reply->body, method == "HEAD" ? std::string_view{} : body);
  if (then == Then::Close) {
    EXPECT_EQ(reply->header("connection"), "close") << reply->head;
    const testing::RawTail tail = client.readUntilClosed();
    EXPECT_TRUE(tail.closed) << "the proxy keeps the connection open: " << client.error();
    EXPECT_EQ(tail.bytes, "") << "bytes after the announced body";
  } else {
    EXPECT_EQ(reply->header("connection"), std::nullopt) << reply->head;
  }
}

// The proxy serves another request on `client`'s connection: a 200 with `body`.
inline void expectServedAgain(RawHttpClient& client, std::string_view body) {
  ASSERT_TRUE(client.send(get("/again"))) << client.error();
  const std::optional<RawResponse> next = client.readResponse();
  ASSERT_TRUE(next) << client.error();
  EXPECT_EQ(next->statusLine, "HTTP/1.1 200 OK");
  EXPECT_EQ(next->body, body);
}

}  // namespace meshgate::dp::testing
