// Test helpers of the config stream tests (config_stream_client_test.cc,
// proxy_server_gateway_test.cc), header-only:
//  - StreamCertificates: a throwaway mesh PKI in a temporary directory — a CA, the operator's
//    serving certificate (SANs of the test's choice) and the gateway's client certificate
//    (a SPIFFE ID) written as the gateway's --cert-dir (ca.crt, tls.crt, tls.key);
//  - FakeConfigServer: the operator's end of the stream, a Beast WebSocket server over TLS that
//    requires a client certificate. It is driven step by step from the test thread (accept, read a
//    frame, send a frame, drop), every step with a deadline, so a test reads as the conversation.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "base/expected.h"
#include "pki/certificate_authority.h"
#include "pki/certificate_template.h"
#include "pki/private_key.h"

namespace meshgate::dp::testing {

inline constexpr char kGatewaySpiffeId[] =
    "spiffe://cluster.local/ns/meshgate-system/sa/meshgate-gateway";

template <class T>
T must(pki::Result<T> result) {
  if (!result) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}

// The same for a result whose error is a message.
template <class T>
T must(Expected<T, std::string> result) {
  if (!result) throw std::runtime_error(result.error());
  return std::move(result).value();
}

struct PemPair {
  std::string certificatePem;
  std::string keyPem;
};

class StreamCertificates {
 public:
  explicit StreamCertificates(std::vector<std::string> serverHosts = {"localhost"})
      // Valid from a day ago, so that a test can also issue certificates that already expired.
      : ca_(must(pki::CertificateAuthority::generate(
            "meshgate-test-ca", std::chrono::system_clock::now() - std::chrono::hours(24)))) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "meshgate-stream-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    certDir_ = (std::filesystem::path(dir_) / "certs").string();
    std::filesystem::create_directories(certDir_);
    server_ = issue(pki::CertificateTemplate::forHosts(std::move(serverHosts)));
    client_ = issue(pki::CertificateTemplate::forWorkload(kGatewaySpiffeId));
    writeCertDir();
  }
  ~StreamCertificates() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  StreamCertificates(const StreamCertificates&) = delete;
  StreamCertificates& operator=(const StreamCertificates&) = delete;

  // A scratch directory the test may use (snapshot files), removed with this object.
  const std::string& dir() const { return dir_; }
  // The gateway's --cert-dir.
  const std::string& certDir() const { return certDir_; }
  std::string caPem() const { return ca_.certificatePem(); }
  const PemPair& server() const { return server_; }
  const PemPair& client() const { return client_; }

  PemPair issue(const pki::CertificateTemplate& t) const {
    return issueAt(t, std::chrono::system_clock::now());
  }
  // Issued as if at `when` (not earlier than a day ago): with a short lifetime, already expired.
  PemPair issueAt(const pki::CertificateTemplate& t,
                  std::chrono::system_clock::time_point when) const {
    const pki::PrivateKey key = must(pki::PrivateKey::generateEcdsaP256());
    const pki::Certificate certificate = must(ca_.issue(t, key, when));
    return {certificate.toPem(), must(key.toPem())};
  }
  void writeCertDir() const {
    write(certDir_ + "/ca.crt", caPem());
    write(certDir_ + "/tls.crt", client_.certificatePem);
    write(certDir_ + "/tls.key", client_.keyPem);
  }
  static void write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
  }

 private:
  pki::CertificateAuthority ca_;
  std::string dir_;
  std::string certDir_;
  PemPair server_;
  PemPair client_;
};

class FakeConfigServer {
 public:
  using error_code = boost::system::error_code;
  using tcp = boost::asio::ip::tcp;
  using WebSocket =
      boost::beast::websocket::stream<boost::beast::ssl_stream<boost::beast::tcp_stream>>;

  // Listens on 127.0.0.1, an ephemeral port, with `serving` as its certificate; trusts `caPem`
  // for client certificates, which it requires.
  FakeConfigServer(const PemPair& serving, const std::string& caPem)
      : tls_(boost::asio::ssl::context::tls_server), acceptor_(context_) {
    tls_.use_certificate_chain(boost::asio::buffer(serving.certificatePem));
    tls_.use_private_key(boost::asio::buffer(serving.keyPem), boost::asio::ssl::context::pem);
    tls_.add_certificate_authority(boost::asio::buffer(caPem));
    tls_.set_verify_mode(boost::asio::ssl::verify_peer |
                         boost::asio::ssl::verify_fail_if_no_peer_cert);
    const tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "https://localhost:" + std::to_string(port()); }

  // Accepts one connection through TLS (a client certificate required) and the WebSocket
  // upgrade. Returns "" or the step that failed. Replaces the previous connection.
  std::string accept(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    ws_.reset();
    tcp::socket socket(context_);
    if (auto ec = await([&](auto handler) { acceptor_.async_accept(socket, handler); }, timeout,
                        [&] { acceptor_.cancel(); }))
      return "accept: " + ec.message();
    ws_ = std::make_unique<WebSocket>(std::move(socket), tls_);
    if (auto ec = await(
            [&](auto handler) {
              ws_->next_layer().async_handshake(boost::asio::ssl::stream_base::server, handler);
            },
            timeout, [&] { closeSocket(); }))
      return "TLS handshake: " + ec.message();
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    if (auto ec = await(
            [&](auto handler) {
              boost::beast::http::async_read(ws_->next_layer(), buffer, request, handler);
            },
            timeout, [&] { closeSocket(); }))
      return "read upgrade request: " + ec.message();
    upgradeTarget_ = std::string(request.target());
    upgradeHost_ = std::string(request[boost::beast::http::field::host]);
    if (auto ec = await([&](auto handler) { ws_->async_accept(request, handler); }, timeout,
                        [&] { closeSocket(); }))
      return "WebSocket accept: " + ec.message();
    ws_->text(true);
    return {};
  }

  // The next text frame, or nullopt when the connection ends or nothing comes in time.
  std::optional<std::string> readFrame(
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (!ws_) return std::nullopt;
    boost::beast::flat_buffer buffer;
    if (await([&](auto handler) { ws_->async_read(buffer, handler); }, timeout,
              [&] { closeSocket(); }))
      return std::nullopt;
    return boost::beast::buffers_to_string(buffer.data());
  }

  bool send(const std::string& frame,
            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (!ws_) return false;
    return !await([&](auto handler) { ws_->async_write(boost::asio::buffer(frame), handler); },
                  timeout, [&] { closeSocket(); });
  }

  // Drops the connection without a closing handshake, as a crashed operator would.
  void drop() {
    closeSocket();
    ws_.reset();
  }

  const std::string& upgradeTarget() const { return upgradeTarget_; }
  const std::string& upgradeHost() const { return upgradeHost_; }

 private:
  void closeSocket() {
    if (!ws_) return;
    error_code ignored;
    boost::beast::get_lowest_layer(*ws_).socket().close(ignored);
  }

  // Starts an operation and runs the io_context on this thread until it completes or `timeout`
  // passes; then `cancel` ends it. Returns the operation's error (timed_out on timeout).
  template <class Initiate>
  error_code await(Initiate initiate, std::chrono::milliseconds timeout,
                   const std::function<void()>& cancel) {
    std::optional<error_code> result;
    initiate([&result](error_code ec, auto&&...) { result = ec; });
    context_.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!result && std::chrono::steady_clock::now() < deadline)
      context_.run_one_for(deadline - std::chrono::steady_clock::now());
    if (result) return *result;
    cancel();
    context_.restart();
    const auto unwind = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!result && std::chrono::steady_clock::now() < unwind)
      context_.run_one_for(std::chrono::milliseconds(100));
    return boost::asio::error::timed_out;
  }

  boost::asio::io_context context_;
  boost::asio::ssl::context tls_;
  tcp::acceptor acceptor_;
  std::unique_ptr<WebSocket> ws_;
  std::string upgradeTarget_;
  std::string upgradeHost_;
};

}  // namespace meshgate::dp::testing
