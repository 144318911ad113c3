// OpenSSL contexts of the sidecar's mTLS, from the workload identity.
#include "dataplane/proxy/mesh_tls.h"

#include "dataplane/proxy/alpn.h"
#include "dataplane/proxy/tls_contexts.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace meshgate::dp {

namespace asio = boost::asio;

namespace {

// The workload certificate, its intermediates, its key and the bundle's roots as the trust store.
std::string loadIdentity(SSL_CTX* context, const WorkloadIdentity& identity) {
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate(context, identity.leaf.get()) != 1)
    return lastSslError("workload certificate");
  SSL_CTX_clear_chain_certs(context);
  for (const auto& intermediate : identity.intermediates)
    if (SSL_CTX_add1_chain_cert(context, intermediate.get()) != 1)
      return lastSslError("workload certificate chain");
  if (SSL_CTX_use_PrivateKey(context, identity.key.get()) != 1) return lastSslError("workload key");
  if (SSL_CTX_check_private_key(context) != 1)
    return lastSslError("workload key does not match the certificate");
  X509_STORE* store = SSL_CTX_get_cert_store(context);
  for (const auto& root : identity.roots)
    if (X509_STORE_add_cert(store, root.get()) != 1) return lastSslError("trust bundle");
  return {};
}

}  // namespace

Expected<MeshTlsContexts, std::string> buildMeshTls(const WorkloadIdentity& identity) {
  MeshTlsContexts contexts;
  contexts.server = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* server = contexts.server->native_handle();
  if (auto problem = loadIdentity(server, identity); !problem.empty()) return problem;
  SSL_CTX_set_verify(server, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_alpn_select_cb(server, selectHttpProtocol, nullptr);
  // Sessions are not resumed: every connection shows its certificate to the authorization check.
  SSL_CTX_set_session_cache_mode(server, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(server, SSL_OP_NO_TICKET);

  contexts.client = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* client = contexts.client->native_handle();
  if (auto problem = loadIdentity(client, identity); !problem.empty()) return problem;
  SSL_CTX_set_verify(client, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_alpn_protos(client, kAlpnHttp11, sizeof kAlpnHttp11);
  return contexts;
}

std::optional<std::string> peerSpiffeId(SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return std::nullopt;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(peer, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return std::nullopt;
  std::optional<std::string> found;
  bool several = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<size_t>(ASN1_STRING_length(uri)));
    if (!text.starts_with("spiffe://")) continue;
    if (found) several = true;
    found = std::move(text);
  }
  GENERAL_NAMES_free(names);
  if (several) return std::nullopt;
  return found;
}

}  // namespace meshgate::dp
