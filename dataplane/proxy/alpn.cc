// ALPN selection of the proxy's TLS listeners.
#include "dataplane/proxy/alpn.h"

#include <cstring>

namespace meshgate::dp {

namespace {
constexpr unsigned char kPreferred[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
}  // namespace

int selectHttpProtocol(SSL*, const unsigned char** out, unsigned char* outlen,
                       const unsigned char* in, unsigned int inlen, void* arg) {
  unsigned char* selected = nullptr;
  // The server's order wins: h2 whenever the client lists it.
  if (SSL_select_next_proto(&selected, outlen, kPreferred, sizeof kPreferred, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return arg != nullptr ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

bool negotiatedHttp2(SSL* ssl) {
  if (ssl == nullptr) return false;
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &protocol, &length);
  return length == 2 && std::memcmp(protocol, "h2", 2) == 0;
}

}  // namespace meshgate::dp
