// BeastTransport's failure kinds without an apiserver: a config it cannot use is InvalidConfig
// (never sent again), and failures before a request is on the wire — a refused connect, a TLS
// handshake that never completes — are Network, which the REST client may safely retry.
#include "kube/beast_transport.h"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace kube {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

RestConfig configFor(uint16_t port) {
  RestConfig config;
  config.server = "https://127.0.0.1:" + std::to_string(port);
  config.insecureSkipTlsVerify = true;  // no CA needed: these tests never finish a handshake
  config.connectTimeout = std::chrono::milliseconds(200);
  config.timeout = std::chrono::milliseconds(200);
  return config;
}

HttpRequest getApi() {
  HttpRequest request;
  request.target = "/api";
  return request;
}

TEST(BeastTransportTest, APlainHttpServerIsAnInvalidConfig) {
  RestConfig config = configFor(443);
  config.server = "http://127.0.0.1:8080";
  auto transport = BeastTransport::create(config);
  ASSERT_FALSE(transport.ok());
  EXPECT_EQ(transport.error().kind, FailureKind::InvalidConfig);
  EXPECT_FALSE(transport.error().retryable());
}

TEST(BeastTransportTest, ACaWithoutCertificatesIsAnInvalidConfig) {
  RestConfig config = configFor(443);
  config.insecureSkipTlsVerify = false;
  config.caPem = "not a certificate";
  auto transport = BeastTransport::create(config);
  ASSERT_FALSE(transport.ok());
  EXPECT_EQ(transport.error().kind, FailureKind::InvalidConfig);
}

TEST(BeastTransportTest, ARefusedConnectionIsANetworkFailure) {
  uint16_t port = 0;
  {
    // A port that was just free: nothing listens on it once the acceptor closes.
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }
  auto transport = BeastTransport::create(configFor(port));
  ASSERT_TRUE(transport.ok()) << transport.error().toString();
  auto response = (*transport)->roundTrip(getApi());
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(response.error().isNetwork()) << response.error().toString();
}

TEST(BeastTransportTest, AHandshakeThatNeverCompletesIsANetworkFailureNotATimeout) {
  // The kernel accepts the TCP connection into the backlog; nobody ever answers the ClientHello.
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto transport = BeastTransport::create(configFor(acceptor.local_endpoint().port()));
  ASSERT_TRUE(transport.ok()) << transport.error().toString();
  auto response = (*transport)->roundTrip(getApi());
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(response.error().isNetwork()) << response.error().toString();
  EXPECT_FALSE(response.error().isTimeout());
}

}  // namespace
}  // namespace kube
