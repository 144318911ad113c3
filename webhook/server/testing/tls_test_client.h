// TlsTestClient is the kube-apiserver's side of the admission server tests: a blocking HTTPS
// client over real loopback sockets that verifies the server against the test CA (SAN only, as
// the apiserver does) and can also misbehave (raw bytes, no handshake at all). Every call returns
// within kTestClientDeadline, so a broken server fails a test instead of hanging it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "webhook/server/http_handler.h"

namespace meshgate::webhook::testing {

inline constexpr std::chrono::seconds kTestClientDeadline{5};

class TlsTestClient {
 public:
  struct Exchange {
    // How reading the response ended; the response is valid when it is empty.
    boost::beast::error_code ec;
    // How writing the request ended: a server refusing a request may close before reading it all.
    boost::beast::error_code writeError;
    HttpResponse response;
  };

  // Trusts only `caPem`; expects the server to be `serverName` (a DNS name, sent as SNI, or an IP
  // address) and offers `alpn` protocols, if any.
  explicit TlsTestClient(const std::string& caPem, std::string serverName = "localhost",
                         std::vector<std::string> alpn = {});

  boost::beast::error_code connect(unsigned short port);
  boost::beast::error_code handshake();
  // connect() then handshake().
  boost::beast::error_code open(unsigned short port);

  // Writes the request while reading the response, as a client streaming a large body does.
  Exchange send(const HttpRequest& request);
  // POSTs an AdmissionReview-like JSON body.
  Exchange post(std::string target, std::string body, bool keepAlive = true);
  // Writes bytes over TLS as they are, then reads one response.
  Exchange sendRaw(std::string_view bytes);
  // Writes bytes over TLS as they are and returns: the start of a request whose rest comes later.
  boost::beast::error_code write(std::string_view bytes);

  // Reads until the server closes the connection (over TLS after the handshake, on the TCP socket
  // before); returns how the read ended.
  boost::beast::error_code waitForClose();

  // Of the connection's server certificate; empty before the handshake.
  std::string peerSerialHex();
  std::string negotiatedAlpn();

 private:
  void run();

  boost::asio::io_context ioc_;
  boost::asio::ssl::context tls_;
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  const std::string serverName_;
  bool handshaken_ = false;
};

// How a server closing the connection looks to the client: a TLS close_notify, or a TCP FIN or
// reset without one.
bool closedByPeer(boost::beast::error_code ec);

}  // namespace meshgate::webhook::testing
