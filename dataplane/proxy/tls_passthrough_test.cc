// Tests of TLS passthrough by server name (listeners[].tlsPassthrough) end to end: a real
// ProxyServer in file mode, TLS echo servers on loopback holding their own certificates, and a
// client that verifies the name it asked for against the certificate it gets — so a call that
// reaches the right backend undecrypted is told from one the proxy terminated. Checked: exact and
// wildcard names pick their backend, the exact name first; a name no route lists is terminated and
// served as HTTPS on a listener with `tls`, closed on one without; plaintext and a malformed
// ClientHello are closed; every connection is counted.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <nlohmann/json.hpp>

#include "base/testing/eventually.h"
#include "dataplane/proxy/testing/fake_config_server.h"
#include "dataplane/proxy/testing/standalone_proxy.h"
#include "dataplane/proxy/testing/tcp_client.h"
#include "dataplane/proxy/testing/tls_echo_server.h"

namespace meshgate::dp {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using meshgate::testing::eventually;
using testing::json;
using testing::PemPair;
using testing::StandaloneProxy;
using testing::StreamCertificates;
using testing::TcpClient;
using testing::TlsEchoServer;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// What a TLS client saw: whether the handshake (with the server's name verified) succeeded, and
// what came back for what it sent.
struct TlsCall {
  bool handshaken = false;
  std::string reply;
};

// Connects to 127.0.0.1:port with SNI `serverName`, verifies that the server's certificate names
// it (SAN) under `caPem`, sends `payload` and reads until `expect` bytes came back, the connection
// ended, or 5 s passed.
TlsCall callOverTls(uint16_t port, const std::string& serverName, const std::string& caPem,
                    const std::string& payload, size_t expect) {
  asio::io_context context;
  ssl::context tls(ssl::context::tls_client);
  tls.add_certificate_authority(asio::buffer(caPem));
  tls.set_verify_mode(ssl::verify_peer);
  TlsCall result;
  auto run = [&]() -> asio::awaitable<void> {
    ssl::stream<tcp::socket> stream(context, tls);
    SSL_set_tlsext_host_name(stream.native_handle(), serverName.c_str());
    stream.set_verify_callback(ssl::host_name_verification(serverName));
    auto [connectError] = co_await stream.next_layer().async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), kNoThrow);
    if (connectError) co_return;
    auto [handshakeError] = co_await stream.async_handshake(ssl::stream_base::client, kNoThrow);
    if (handshakeError) co_return;
    result.handshaken = true;
    auto [writeError, written] =
        co_await asio::async_write(stream, asio::buffer(payload), kNoThrow);
    if (writeError) co_return;
    std::array<char, 4096> buffer;
    while (result.reply.size() < expect) {
      auto [readError, n] = co_await stream.async_read_some(asio::buffer(buffer), kNoThrow);
      if (readError) break;
      result.reply.append(buffer.data(), n);
    }
  };
  asio::co_spawn(context, run(), asio::detached);
  context.run_for(5s);
  return result;
}

// A file in `dir` holding `text`; its path.
std::string writeFile(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::path(dir) / name).string();
  std::ofstream(path) << text;
  return path;
}

std::optional<double> statValue(const std::string& stats, const std::string& series) {
  std::istringstream lines(stats);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(series + " "))
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
  return std::nullopt;
}

std::string tcpConnections(const std::string& listener, const std::string& result) {
  return "meshgate_proxy_tcp_connections_total{listener=\"" + listener + "\",result=\"" + result +
         "\"}";
}

class TlsPassthroughTest : public ::testing::Test {
 protected:
  // The standalone proxy's config plus listener "edge": passthrough of db.example.com to `db_`,
  // *.mq.example.com to `mq_` and eu.mq.example.com (exact, so first) to `db_`; terminating the
  // rest with shop.example.com's certificate when `terminate`.
  json config(bool terminate) {
    json config = testing::proxyConfig(testing::closedPort());
    json edge = {{"name", "edge"},
                 {"address", "127.0.0.1"},
                 {"port", 0},
                 {"tlsPassthrough",
                  {{{"serverNames", {"db.example.com", "eu.mq.example.com"}},
                    {"cluster", "db"},
                    {"port", 5432}},
                   {{"serverNames", {"*.mq.example.com"}}, {"cluster", "mq"}, {"port", 5671}}}}};
    if (terminate) {
      const PemPair shop = ca_.issue(pki::CertificateTemplate::forHosts({"shop.example.com"}));
      edge["tls"] = {{"certificates",
                      {{{"certFile", writeFile(ca_.dir(), "shop.crt", shop.certificatePem)},
                        {"keyFile", writeFile(ca_.dir(), "shop.key", shop.keyPem)}}}}};
    }
    config["listeners"].push_back(std::move(edge));
    config["clusters"].push_back(
        {{"name", "db"}, {"endpoints", {{{"address", "127.0.0.1"}, {"port", db_.port()}}}}});
    config["clusters"].push_back(
        {{"name", "mq"}, {"endpoints", {{{"address", "127.0.0.1"}, {"port", mq_.port()}}}}});
    return config;
  }

  static uint16_t edgePort(StandaloneProxy& proxy) {
    const auto dump = proxy.admin("/config_dump");
    if (!dump) return 0;
    return json::parse(dump->body)["boundPorts"]["edge"].get<uint16_t>();
  }

  static bool statReaches(StandaloneProxy& proxy, const std::string& series, double value) {
    return eventually([&] {
      const auto stats = proxy.admin("/stats");
      const auto found = stats ? statValue(stats->body, series) : std::nullopt;
      return found && *found >= value;
    });
  }

  StreamCertificates ca_;
  TlsEchoServer db_{
      "db", ca_.issue(pki::CertificateTemplate::forHosts({"db.example.com", "eu.mq.example.com"}))};
  // An X.509 wildcard covers one label: the deeper name the test calls is listed too.
  TlsEchoServer mq_{
      "mq",
      ca_.issue(pki::CertificateTemplate::forHosts({"*.mq.example.com", "a.b.mq.example.com"}))};
};

TEST_F(TlsPassthroughTest, ANamedServerGetsTheClientsTlsUndecrypted) {
  StandaloneProxy proxy(config(true));
  const TlsCall call = callOverTls(edgePort(proxy), "db.example.com", ca_.caPem(), "ping", 7);
  EXPECT_TRUE(call.handshaken) << "the client verified db.example.com: the backend's certificate";
  EXPECT_EQ(call.reply, "db:ping");
  EXPECT_EQ(db_.handshakes(), 1u);
  EXPECT_TRUE(statReaches(proxy, tcpConnections("edge|db.example.com", "proxied"), 1));
  EXPECT_TRUE(statReaches(proxy,
                          "meshgate_proxy_tcp_bytes_total{listener=\"edge|db.example.com\","
                          "direction=\"downstream_to_upstream\"}",
                          1))
      << "the ClientHello and the records after it were relayed";
}

TEST_F(TlsPassthroughTest, AWildcardNameMatchesBelowItsSuffixAndTheExactNameWins) {
  StandaloneProxy proxy(config(true));
  const uint16_t port = edgePort(proxy);
  EXPECT_EQ(callOverTls(port, "eu.mq.example.com", ca_.caPem(), "a", 4).reply, "db:a")
      << "the exact name beats *.mq.example.com";
  EXPECT_EQ(callOverTls(port, "us.mq.example.com", ca_.caPem(), "b", 4).reply, "mq:b");
  EXPECT_EQ(callOverTls(port, "a.b.mq.example.com", ca_.caPem(), "c", 4).reply, "mq:c")
      << "a wildcard covers one or more labels";
  EXPECT_EQ(db_.handshakes(), 1u);
  EXPECT_EQ(mq_.handshakes(), 2u);
}

TEST_F(TlsPassthroughTest, AnotherNameIsTerminatedAndServedAsHttpsWhenTheListenerHasTls) {
  StandaloneProxy proxy(config(true));
  const TlsCall call =
      callOverTls(edgePort(proxy), "shop.example.com", ca_.caPem(),
                  "GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n", 12);
  EXPECT_TRUE(call.handshaken) << "the proxy's own certificate for shop.example.com";
  EXPECT_THAT(call.reply, ::testing::StartsWith("HTTP/1.1 ")) << "an HTTP response of the proxy";
  // mq.example.com itself is not below *.mq.example.com.
  const TlsCall apex = callOverTls(edgePort(proxy), "mq.example.com", ca_.caPem(), "x", 1);
  EXPECT_FALSE(apex.handshaken) << "terminated with shop's certificate, which does not name it";
  EXPECT_EQ(db_.handshakes() + mq_.handshakes(), 0u);
  EXPECT_TRUE(statReaches(proxy, tcpConnections("edge", "no_route"), 2));
}

TEST_F(TlsPassthroughTest, WithoutTlsAnUnknownNamePlaintextAndGarbageAreClosed) {
  StandaloneProxy proxy(config(false));
  const uint16_t port = edgePort(proxy);
  EXPECT_FALSE(callOverTls(port, "shop.example.com", ca_.caPem(), "x", 1).handshaken);

  TcpClient plaintext(port);
  ASSERT_TRUE(plaintext.connected());
  ASSERT_TRUE(plaintext.send("GET / HTTP/1.1\r\nHost: db.example.com\r\n\r\n"));
  std::string rest;
  EXPECT_TRUE(plaintext.awaitClose(5s, &rest));
  EXPECT_EQ(rest, "") << "no HTTP answer on a passthrough-only listener";

  // A handshake record whose ClientHello claims more bytes than its record holds.
  TcpClient garbage(port);
  ASSERT_TRUE(garbage.connected());
  ASSERT_TRUE(garbage.send(std::string("\x16\x03\x01\x00\x05\x01\x00\xff\xff\xff", 10)));
  EXPECT_TRUE(garbage.awaitClose(5s));

  EXPECT_EQ(db_.handshakes() + mq_.handshakes(), 0u);
  EXPECT_TRUE(statReaches(proxy, tcpConnections("edge", "no_route"), 3));
  // The proxy keeps serving: a named server is still reached.
  EXPECT_EQ(callOverTls(port, "db.example.com", ca_.caPem(), "ok", 5).reply, "db:ok");
}

TEST_F(TlsPassthroughTest, AClientHelloThatNeverCompletesIsClosedAfterTheHeaderReadTimeout) {
  json slow = config(false);
  slow["timeouts"]["headerRead"] = "300ms";
  StandaloneProxy proxy(slow);
  TcpClient client(edgePort(proxy));
  ASSERT_TRUE(client.connected());
  // The first 5 bytes of a record that announces 512: the rest never comes.
  ASSERT_TRUE(client.send(std::string("\x16\x03\x01\x02\x00", 5)));
  EXPECT_TRUE(client.awaitClose(5s)) << "the peek must end at timeouts.headerRead";
  EXPECT_TRUE(statReaches(proxy, tcpConnections("edge", "no_route"), 1));
}

}  // namespace
}  // namespace meshgate::dp
