// OpenSSL contexts for HTTPS listeners (SNI, ALPN) and upstream TLS (verification).
#include "dataplane/proxy/tls_contexts.h"

#include "dataplane/proxy/alpn.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace meshgate::dp {

namespace asio = boost::asio;

namespace {

// Loads a PEM chain (leaf first) and its key from memory into the context. The key's text never
// reaches an error message.
std::string usePemCertificate(SSL_CTX* context, const std::string& chainPem,
                              const std::string& keyPem) {
  BIO* chain = BIO_new_mem_buf(chainPem.data(), static_cast<int>(chainPem.size()));
  X509* leaf = PEM_read_bio_X509(chain, nullptr, nullptr, nullptr);
  bool ok = leaf != nullptr && SSL_CTX_use_certificate(context, leaf) == 1;
  X509_free(leaf);
  SSL_CTX_clear_chain_certs(context);
  while (ok) {
    X509* intermediate = PEM_read_bio_X509(chain, nullptr, nullptr, nullptr);
    if (intermediate == nullptr) break;
    // add0: the context owns it from here.
    if (SSL_CTX_add0_chain_cert(context, intermediate) != 1) {
      X509_free(intermediate);
      ok = false;
    }
  }
  BIO_free(chain);
  if (!ok) return lastSslError("certificatePem: cannot load the certificate chain");
  ERR_clear_error();  // the end of the chain reads as "no start line"
  BIO* key = BIO_new_mem_buf(keyPem.data(), static_cast<int>(keyPem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
  BIO_free(key);
  ok = pkey != nullptr && SSL_CTX_use_PrivateKey(context, pkey) == 1;
  EVP_PKEY_free(pkey);
  if (!ok) return lastSslError("privateKeyPem: cannot load the private key");
  if (SSL_CTX_check_private_key(context) != 1)
    return lastSslError("privateKeyPem: does not match certificatePem");
  return {};
}

}  // namespace

Expected<std::shared_ptr<ServerTls>, std::string> ServerTls::build(const ListenerTls& config) {
  auto tls = std::shared_ptr<ServerTls>(new ServerTls());
  for (const auto& files : config.certificates) {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX* native = context->native_handle();
    SSL_CTX_set_min_proto_version(native,
                                  config.minVersion == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (!files.certificatePem.empty()) {
      if (auto problem = usePemCertificate(native, files.certificatePem, files.privateKeyPem);
          !problem.empty())
        return problem;
    } else {
      if (SSL_CTX_use_certificate_chain_file(native, files.certFile.c_str()) != 1)
        return lastSslError(files.certFile + ": cannot load the certificate chain");
      if (SSL_CTX_use_PrivateKey_file(native, files.keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
        return lastSslError(files.keyFile + ": cannot load the private key");
      if (SSL_CTX_check_private_key(native) != 1)
        return lastSslError(files.keyFile + ": does not match " + files.certFile);
    }
    // The address of a constant stands for "refuse a client without HTTP" (alpn.h).
    static int refuse = kRefuseWithoutHttp;
    SSL_CTX_set_alpn_select_cb(native, selectHttpProtocol, &refuse);
    tls->contexts_.push_back(std::move(context));
  }
  if (tls->contexts_.empty()) return std::string("a TLS listener needs a certificate");
  SSL_CTX* first = tls->contexts_.front()->native_handle();
  SSL_CTX_set_tlsext_servername_callback(first, &ServerTls::onServerName);
  SSL_CTX_set_tlsext_servername_arg(first, tls.get());
  return tls;
}

int ServerTls::onServerName(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<ServerTls*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  for (const auto& context : self->contexts_) {
    X509* leaf = SSL_CTX_get0_certificate(context->native_handle());
    if (leaf && X509_check_host(leaf, name, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr) == 1) {
      if (context.get() != self->contexts_.front().get())
        SSL_set_SSL_CTX(ssl, context->native_handle());
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_OK;  // the default certificate answers
}

Expected<std::shared_ptr<asio::ssl::context>, std::string> buildClientTls(
    const UpstreamTls& config) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (config.caFile) {
    if (SSL_CTX_load_verify_locations(native, config.caFile->c_str(), nullptr) != 1)
      return lastSslError(*config.caFile + ": cannot load the CA certificates");
  } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
    return lastSslError("cannot load the system CA certificates");
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_alpn_protos(native, kAlpnHttp11, sizeof kAlpnHttp11);
  return context;
}

std::string lastSslError(const std::string& what) {
  const unsigned long code = ERR_get_error();
  char text[256] = {};
  if (code) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return what + (code ? std::string(": ") + text : std::string());
}

std::string describeTlsFailure(SSL* ssl, const boost::system::error_code& ec) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    return "TLS handshake: server certificate refused: " +
           std::string(X509_verify_cert_error_string(verify));
  return "TLS handshake: " + ec.message();
}

}  // namespace meshgate::dp
