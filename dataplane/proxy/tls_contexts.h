// TLS contexts of the proxy. Server side (HTTPS listeners): one OpenSSL context per certificate;
// the SNI callback switches the connection to the first certificate whose SAN matches the
// requested name, the first certificate answers clients without SNI or with an unknown name;
// TLS 1.2 or 1.3 minimum, ALPN picks h2, else http/1.1 (alpn.h). Client side (upstream TLS):
// verification against the cluster's CA file (or the system roots) and hostname checks by SAN only
// (see ByteStream::handshakeAsClient). Built when a config is loaded, so a bad file refuses the
// config. Also how a client handshake's failure is described (the config stream, JWKS fetches).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "base/expected.h"
#include "dataplane/config/proxy_config.h"

namespace meshgate::dp {

class ServerTls {
 public:
  static Expected<std::shared_ptr<ServerTls>, std::string> build(const ListenerTls& config);
  // The context new connections start with (its SNI callback may switch them).
  boost::asio::ssl::context& context() { return *contexts_.front(); }

 private:
  static int onServerName(SSL* ssl, int* alert, void* arg);
  std::vector<std::unique_ptr<boost::asio::ssl::context>> contexts_;
};

Expected<std::shared_ptr<boost::asio::ssl::context>, std::string> buildClientTls(
    const UpstreamTls& config);

// `what`, and OpenSSL's first queued error when there is one (the queue is cleared). Never
// quotes key material: OpenSSL's error strings do not.
std::string lastSslError(const std::string& what);

// Why a client handshake on `ssl` failed with `ec`, for a log line: the certificate verification
// error when there is one ("server certificate refused: certificate has expired"), else `ec`.
std::string describeTlsFailure(SSL* ssl, const boost::system::error_code& ec);

}  // namespace meshgate::dp
