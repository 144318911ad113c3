// ALPN (RFC 7301) for the proxy's TLS listeners: the server picks "h2" when the client offers it,
// else "http/1.1", like nginx and Envoy; after the handshake the session asks which was chosen.
#pragma once

#include <openssl/ssl.h>

namespace meshgate::dp {

// The client protocol list the proxy offers upstream ("http/1.1"), in ALPN wire format.
inline constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// What an HTTP/2 upstream connection offers: "h2" only.
inline constexpr unsigned char kAlpnHttp2[] = {2, 'h', '2'};

// An SSL_CTX_set_alpn_select_cb callback: h2, else http/1.1. `arg` non-null: a client offering
// neither is refused with a fatal alert (gateway listeners); null: the handshake goes on without a
// protocol (mesh listeners, whose peers may not send ALPN).
int selectHttpProtocol(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                       const unsigned char* in, unsigned int inlen, void* arg);

// Marker for `arg` above.
inline constexpr int kRefuseWithoutHttp = 1;

// The handshake chose "h2".
bool negotiatedHttp2(SSL* ssl);

}  // namespace meshgate::dp
