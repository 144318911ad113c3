// The blocking test HTTPS client; see tls_test_client.h.
#include "webhook/server/testing/tls_test_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <functional>
#include <stdexcept>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "pki/certificate.h"

namespace meshgate::webhook::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

asio::ssl::context makeClientContext(const std::string& caPem,
                                     const std::vector<std::string>& alpn) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  context.add_certificate_authority(asio::buffer(caPem));
  context.set_verify_mode(asio::ssl::verify_peer);
  if (!alpn.empty()) {
    std::string wire;
    for (const auto& protocol : alpn) {
      wire.push_back(static_cast<char>(protocol.size()));
      wire += protocol;
    }
    SSL_CTX_set_alpn_protos(context.native_handle(),
                            reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }
  return context;
}

}  // namespace

TlsTestClient::TlsTestClient(const std::string& caPem, std::string serverName,
                             std::vector<std::string> alpn)
    : tls_(makeClientContext(caPem, alpn)),
      stream_(ioc_, tls_),
      serverName_(std::move(serverName)) {
  SSL* ssl = stream_.native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  boost::system::error_code notAnAddress;
  asio::ip::make_address(serverName_, notAnAddress);
  const int set = notAnAddress
                      ? X509_VERIFY_PARAM_set1_host(param, serverName_.c_str(), serverName_.size())
                      : X509_VERIFY_PARAM_set1_ip_asc(param, serverName_.c_str());
  if (set != 1) throw std::runtime_error("cannot expect server name " + serverName_);
  if (notAnAddress) SSL_set_tlsext_host_name(ssl, serverName_.c_str());
}

beast::error_code TlsTestClient::connect(unsigned short port) {
  beast::error_code result;
  auto& tcp = beast::get_lowest_layer(stream_);
  tcp.expires_after(kTestClientDeadline);
  tcp.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                    [&](beast::error_code ec) { result = ec; });
  run();
  return result;
}

beast::error_code TlsTestClient::handshake() {
  beast::error_code result;
  beast::get_lowest_layer(stream_).expires_after(kTestClientDeadline);
  stream_.async_handshake(asio::ssl::stream_base::client,
                          [&](beast::error_code ec) { result = ec; });
  run();
  handshaken_ = !result;
  return result;
}

beast::error_code TlsTestClient::open(unsigned short port) {
  if (auto ec = connect(port)) return ec;
  return handshake();
}

TlsTestClient::Exchange TlsTestClient::send(const HttpRequest& request) {
  Exchange out;
  http::response_parser<http::string_body> parser;
  beast::get_lowest_layer(stream_).expires_after(kTestClientDeadline);
  http::async_write(stream_, request,
                    [&](beast::error_code ec, std::size_t) { out.writeError = ec; });
  http::async_read(stream_, buffer_, parser,
                   [&](beast::error_code ec, std::size_t) { out.ec = ec; });
  run();
  if (!out.ec) out.response = parser.release();
  return out;
}

TlsTestClient::Exchange TlsTestClient::post(std::string target, std::string body, bool keepAlive) {
  HttpRequest request{http::verb::post, target, 11};
  request.set(http::field::host, serverName_);
  request.set(http::field::content_type, "application/json");
  request.keep_alive(keepAlive);
  request.body() = std::move(body);
  request.prepare_payload();
  return send(request);
}

TlsTestClient::Exchange TlsTestClient::sendRaw(std::string_view bytes) {
  Exchange out;
  http::response_parser<http::string_body> parser;
  beast::get_lowest_layer(stream_).expires_after(kTestClientDeadline);
  asio::async_write(stream_, asio::buffer(bytes),
                    [&](beast::error_code ec, std::size_t) { out.writeError = ec; });
  http::async_read(stream_, buffer_, parser,
                   [&](beast::error_code ec, std::size_t) { out.ec = ec; });
  run();
  if (!out.ec) out.response = parser.release();
  return out;
}

beast::error_code TlsTestClient::write(std::string_view bytes) {
  beast::error_code result;
  beast::get_lowest_layer(stream_).expires_after(kTestClientDeadline);
  asio::async_write(stream_, asio::buffer(bytes),
                    [&](beast::error_code ec, std::size_t) { result = ec; });
  run();
  return result;
}

beast::error_code TlsTestClient::waitForClose() {
  beast::error_code result;
  auto& tcp = beast::get_lowest_layer(stream_);
  tcp.expires_after(kTestClientDeadline);
  // Reads until an error; what arrives before it (the rest of a response) does not matter.
  std::function<void(beast::error_code, std::size_t)> onRead;
  onRead = [&](beast::error_code ec, std::size_t n) {
    buffer_.consume(n);
    if (ec) {
      result = ec;
      return;
    }
    if (handshaken_) {
      stream_.async_read_some(buffer_.prepare(4096), onRead);
    } else {
      tcp.async_read_some(buffer_.prepare(4096), onRead);
    }
  };
  onRead({}, 0);
  run();
  return result;
}

std::string TlsTestClient::peerSerialHex() {
  X509* peer = SSL_get1_peer_certificate(stream_.native_handle());
  if (peer == nullptr) return "";
  auto certificate = pki::Certificate::adopt(peer);
  return certificate ? certificate->serialHex() : "";
}

std::string TlsTestClient::negotiatedAlpn() {
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(stream_.native_handle(), &protocol, &length);
  if (protocol == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(protocol), length);
}

void TlsTestClient::run() {
  ioc_.restart();
  ioc_.run();
}

bool closedByPeer(beast::error_code ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
         ec == asio::error::connection_reset || ec == http::error::end_of_stream;
}

}  // namespace meshgate::webhook::testing
