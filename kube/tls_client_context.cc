// OpenSSL specifics for the apiserver client: PEM from memory, TLS 1.2 minimum, SAN-only checks.
#include "kube/tls_client_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/address.hpp>

namespace kube {

namespace {

ApiError tlsError(const std::string& what) {
  ApiError err = ApiError::invalidConfig(what);
  const unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    err.message += ": ";
    err.message += buf;
  }
  ERR_clear_error();
  return err;
}

// Adds every certificate of a PEM bundle to the context's trust store; returns how many.
int addTrustedPem(SSL_CTX* ctx, const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) added++;
    X509_free(cert);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  return added;
}

}  // namespace

Result<TlsContextSharedPtr> makeTlsClientContext(const RestConfig& config) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);

  if (config.caPem.empty()) {
    if (SSL_CTX_set_default_verify_paths(native) != 1) return tlsError("loading system CAs");
  } else if (addTrustedPem(native, config.caPem) == 0) {
    return tlsError("certificate-authority holds no PEM certificate");
  }
  if (!config.clientCertPem.empty()) {
    boost::system::error_code ec;
    ctx->use_certificate_chain(boost::asio::buffer(config.clientCertPem), ec);
    if (ec) return tlsError("client certificate: " + ec.message());
    ctx->use_private_key(boost::asio::buffer(config.clientKeyPem), ssl::context::pem, ec);
    if (ec) return tlsError("client key: " + ec.message());
    if (SSL_CTX_check_private_key(native) != 1) {
      return tlsError("client key does not match the client certificate");
    }
  }
  ctx->set_verify_mode(config.insecureSkipTlsVerify ? ssl::verify_none : ssl::verify_peer);
  return ctx;
}

std::string configureServerVerification(SSL* ssl, const std::string& host, bool verifyPeer) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  const bool isIp = !ec;
  if (!isIp && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    return "cannot set SNI to " + host;
  }
  if (!verifyPeer) return "";
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int rc = isIp ? X509_VERIFY_PARAM_set1_ip_asc(param, address.to_string().c_str())
                      : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  if (rc != 1) return "cannot set the expected server identity " + host;
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  return "";
}

}  // namespace kube
