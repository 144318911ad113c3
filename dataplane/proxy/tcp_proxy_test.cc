// Tests of TCP listeners (listeners[].tcp) end to end: a real ProxyServer in file mode relays
// connections to echo servers on loopback — byte-exact both ways with half-close, balanced over
// the endpoints, skipping and ejecting a dead one, closed when idle, capped by the cluster's
// maxConnections — and counts them in /stats.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/testing/eventually.h"
#include "dataplane/proxy/testing/echo_server.h"
#include "dataplane/proxy/testing/standalone_proxy.h"
#include "dataplane/proxy/testing/tcp_client.h"

namespace meshgate::dp {
namespace {

using meshgate::testing::eventually;
using testing::closedPort;
using testing::EchoServer;
using testing::json;
using testing::StandaloneProxy;
using testing::TcpClient;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

json endpoint(uint16_t port) {
  return {{"address", "127.0.0.1"}, {"port", port}};
}

// The standalone proxy's config (listener "http", route "app") plus TCP listener "db" to cluster
// "echo" at port 9000 over `endpoints`, which `tcp` and `cluster` fields may extend.
json tcpConfig(json endpoints, json tcp = json::object(), json cluster = json::object()) {
  json config = testing::proxyConfig(closedPort());
  json target = {{"cluster", "echo"}, {"port", 9000}};
  target.update(tcp);
  config["listeners"].push_back(
      {{"name", "db"}, {"address", "127.0.0.1"}, {"port", 0}, {"tcp", std::move(target)}});
  json echo = {{"name", "echo"}, {"endpoints", std::move(endpoints)}};
  echo.update(cluster);
  config["clusters"].push_back(std::move(echo));
  return config;
}

uint16_t tcpPort(StandaloneProxy& proxy) {
  const auto dump = proxy.admin("/config_dump");
  if (!dump) return 0;
  return json::parse(dump->body)["boundPorts"]["db"].get<uint16_t>();
}

// The value of one series of /stats ("name{labels}"), nullopt when absent.
std::optional<double> statValue(const std::string& stats, const std::string& series) {
  std::istringstream lines(stats);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(series + " "))
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
  return std::nullopt;
}

std::string connections(const std::string& result) {
  return "meshgate_proxy_tcp_connections_total{listener=\"db\",result=\"" + result + "\"}";
}
std::string bytes(const std::string& direction) {
  return "meshgate_proxy_tcp_bytes_total{listener=\"db\",direction=\"" + direction + "\"}";
}

bool statReaches(StandaloneProxy& proxy, const std::string& series, double value) {
  return eventually([&] { return statValue(proxy.stats(), series) == value; });
}

std::string randomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string out(size, '\0');
  for (char& c : out)
    c = static_cast<char>(random());
  return out;
}

TEST(TcpProxyTest, EchoesBytesExactlyAndPassesTheHalfCloseOn) {
  EchoServer echo;
  StandaloneProxy proxy(tcpConfig(json::array({endpoint(echo.port())})));
  TcpClient client(tcpPort(proxy));
  ASSERT_TRUE(client.connected());
  const std::string sent = randomBytes(1 << 20, 18);
  std::string received;
  for (size_t offset = 0; offset < sent.size(); offset += 64 * 1024) {
    const std::string_view chunk = std::string_view(sent).substr(offset, 64 * 1024);
    ASSERT_TRUE(client.send(chunk));
    received += client.read(chunk.size());
    ASSERT_EQ(received.size(), offset + chunk.size()) << "the echo stalled";
  }
  EXPECT_TRUE(received == sent) << "the bytes came back changed";
  // The client's half-close reaches the echo server, whose close comes back as the end of stream.
  client.shutdownSend();
  std::string rest;
  EXPECT_TRUE(client.awaitClose(5s, &rest));
  EXPECT_EQ(rest, "");
  EXPECT_EQ(echo.accepted(), 1u);
  EXPECT_TRUE(statReaches(proxy, connections("proxied"), 1));
}

TEST(TcpProxyTest, BalancesConnectionsRoundRobinOverEveryEndpoint) {
  EchoServer a("a"), b("b"), c("c");
  StandaloneProxy proxy(
      tcpConfig(json::array({endpoint(a.port()), endpoint(b.port()), endpoint(c.port())})));
  const uint16_t port = tcpPort(proxy);
  std::map<std::string, int> greetings;
  for (int i = 0; i < 30; ++i) {
    TcpClient client(port);
    ASSERT_TRUE(client.connected());
    greetings[client.read(1)]++;
  }
  EXPECT_THAT(greetings, ::testing::ElementsAre(::testing::Pair("a", 10), ::testing::Pair("b", 10),
                                                ::testing::Pair("c", 10)));
  EXPECT_EQ(a.accepted() + b.accepted() + c.accepted(), 30u);
}

TEST(TcpProxyTest, SkipsADeadEndpointAndEjectsIt) {
  EchoServer first, second;
  const uint16_t dead = closedPort();
  StandaloneProxy proxy(
      tcpConfig(json::array({endpoint(first.port()), endpoint(dead), endpoint(second.port())}),
                json::object(), {{"outlierDetection", {{"consecutiveErrors", 1}}}}));
  const uint16_t port = tcpPort(proxy);
  for (int i = 0; i < 20; ++i) {
    TcpClient client(port);
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.send("ping " + std::to_string(i)));
    EXPECT_EQ(client.read(6 + (i >= 10 ? 1 : 0)), "ping " + std::to_string(i));
  }
  EXPECT_EQ(first.accepted() + second.accepted(), 20u);
  const std::string stats = proxy.stats();
  // One failed connect, then the dead endpoint is out of rotation for the ejection time.
  EXPECT_EQ(
      statValue(stats, "meshgate_proxy_upstream_errors_total{cluster=\"echo\",kind=\"connect\"}"),
      1);
  EXPECT_EQ(
      statValue(stats, "meshgate_proxy_endpoint_ejected{cluster=\"echo\",endpoint=\"127.0.0.1:" +
                           std::to_string(dead) + "\"}"),
      1);
  EXPECT_EQ(statValue(stats, connections("proxied")), 20);
  EXPECT_EQ(statValue(stats, connections("connect_failed")), 0);
}

TEST(TcpProxyTest, ClosesTheClientWhenEveryConnectFails) {
  StandaloneProxy proxy(tcpConfig(json::array({endpoint(closedPort()), endpoint(closedPort())})));
  TcpClient client(tcpPort(proxy));
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.awaitClose(5s));
  // Each endpoint tried once (fewer endpoints than the three tries).
  EXPECT_TRUE(statReaches(proxy, connections("connect_failed"), 1));
  EXPECT_EQ(statValue(proxy.stats(),
                      "meshgate_proxy_upstream_errors_total{cluster=\"echo\",kind=\"connect\"}"),
            2);
}

TEST(TcpProxyTest, ClosesAConnectionIdleForTheIdleTimeout) {
  EchoServer echo;
  StandaloneProxy proxy(
      tcpConfig(json::array({endpoint(echo.port())}), {{"idleTimeout", "300ms"}}));
  TcpClient client(tcpPort(proxy));
  ASSERT_TRUE(client.connected());
  // Traffic every 50 ms for well past the idle timeout keeps the connection open.
  const auto start = Clock::now();
  auto lastEcho = start;
  while (Clock::now() - start < 1s) {
    std::this_thread::sleep_for(50ms);  // the pace of the traffic, not a wait for a condition
    ASSERT_TRUE(client.send("x"));
    ASSERT_EQ(client.read(1), "x") << "closed while in use";
    lastEcho = Clock::now();  // the proxy's last activity was just before
  }
  EXPECT_TRUE(client.awaitClose(5s));
  // 300 ms after the proxy's last activity; 50 ms of margin for the echo's way back.
  EXPECT_GE(Clock::now() - lastEcho, 250ms) << "closed before the idle timeout";
}

TEST(TcpProxyTest, CountsTheBytesRelayedEachWay) {
  EchoServer echo("hello\n");
  StandaloneProxy proxy(tcpConfig(json::array({endpoint(echo.port())})));
  TcpClient client(tcpPort(proxy));
  ASSERT_TRUE(client.connected());
  ASSERT_EQ(client.read(6), "hello\n");
  const std::string sent = randomBytes(100'000, 5);
  ASSERT_TRUE(client.send(sent));
  ASSERT_EQ(client.read(sent.size()).size(), sent.size());
  EXPECT_TRUE(statReaches(proxy, bytes("downstream_to_upstream"), 100'000));
  EXPECT_TRUE(statReaches(proxy, bytes("upstream_to_downstream"), 100'006));
  EXPECT_TRUE(
      statReaches(proxy, "meshgate_proxy_upstream_connections_active{cluster=\"echo\"}", 1));
  client.shutdownSend();
  EXPECT_TRUE(client.awaitClose(5s));
  EXPECT_TRUE(
      statReaches(proxy, "meshgate_proxy_upstream_connections_active{cluster=\"echo\"}", 0));
  EXPECT_EQ(statValue(proxy.stats(), "meshgate_proxy_upstream_connections_total{cluster=\"echo\"}"),
            1);
}

TEST(TcpProxyTest, ClosesConnectionsBeyondTheClusterMaxConnections) {
  EchoServer echo("hi");
  StandaloneProxy proxy(tcpConfig(json::array({endpoint(echo.port())}), json::object(),
                                  {{"circuitBreaker", {{"maxConnections", 1}}}}));
  const uint16_t port = tcpPort(proxy);
  TcpClient held(port);
  ASSERT_EQ(held.read(2), "hi");
  TcpClient refused(port);
  ASSERT_TRUE(refused.connected());
  std::string rest;
  EXPECT_TRUE(refused.awaitClose(5s, &rest));
  EXPECT_EQ(rest, "");
  EXPECT_TRUE(statReaches(proxy, connections("overflow"), 1));
  EXPECT_EQ(statValue(proxy.stats(),
                      "meshgate_proxy_overflow_total{cluster=\"echo\",resource=\"connections\"}"),
            1);
  EXPECT_EQ(echo.accepted(), 1u);
  // The held connection still works.
  ASSERT_TRUE(held.send("ok"));
  EXPECT_EQ(held.read(2), "ok");
}

}  // namespace
}  // namespace meshgate::dp
