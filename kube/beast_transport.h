// BeastTransport speaks HTTP/1.1 over TLS to one apiserver with Boost.Beast: a keep-alive pool of
// connections, a deadline on connect, handshake and every request, bearer tokens re-read from
// their file when it changes, and streamed responses for watches.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "kube/rest_config.h"
#include "kube/tls_client_context.h"
#include "kube/transport.h"

namespace kube {

class BeastTransport : public Transport {
 public:
  static Result<std::unique_ptr<BeastTransport>> create(const RestConfig& config);
  ~BeastTransport() override;

  // kube::Transport
  Result<HttpResponse> roundTrip(const HttpRequest& request) override;
  Result<ResponseStreamPtr> stream(const HttpRequest& request) override;

  // How many idle keep-alive connections are pooled (for tests).
  size_t idleConnections() const;

  class Connection;

 private:
  BeastTransport(const RestConfig& config, TlsContextSharedPtr tls, std::string host,
                 std::string port, std::string pathPrefix);
  Result<std::unique_ptr<Connection>> connect();
  std::unique_ptr<Connection> takeIdle();
  void putIdle(std::unique_ptr<Connection> connection);
  std::string authorizationHeader();

  RestConfig config_;
  TlsContextSharedPtr tls_;
  std::string host_;
  std::string port_;
  std::string pathPrefix_;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::string cachedToken_;
  long long tokenFileMtime_ = -1;
};

}  // namespace kube
