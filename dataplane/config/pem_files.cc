// PEM file checks with OpenSSL; see pem_files.h.
#include "dataplane/config/pem_files.h"

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/read_file.h"

namespace meshgate::dp {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr memoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate of a PEM text, or nullopt when a block is not a certificate. OpenSSL's error
// queue is left empty either way.
std::optional<std::vector<X509Ptr>> parseCertificates(const std::string& text) {
  std::vector<X509Ptr> certs;
  const BioPtr bio = memoryBio(text);
  ERR_clear_error();
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  // The loop ends at the end of the input ("no start line") or at a block that fails to parse.
  const unsigned long err = ERR_peek_last_error();
  const bool cleanEnd =
      err == 0 || (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE);
  ERR_clear_error();
  if (!cleanEnd) return std::nullopt;
  return certs;
}

// A passphrase callback that refuses, so an encrypted key fails instead of prompting on a tty.
int noPassphrase(char*, int, int, void*) {
  return -1;
}

PkeyPtr parsePrivateKey(const std::string& text) {
  const BioPtr bio = memoryBio(text);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
  ERR_clear_error();
  return key;
}

}  // namespace

std::string checkCertificatePem(const std::string& text) {
  const auto certs = parseCertificates(text);
  if (!certs) return "holds a PEM block that is not a valid certificate";
  if (certs->empty()) return "no PEM certificate found";
  return {};
}

std::string checkCertificateFile(const std::string& path) {
  std::string error;
  const auto text = readFileText(path, error);
  if (!text) return error;
  return checkCertificatePem(*text);
}

std::string checkPrivateKeyPem(const std::string& text) {
  if (!parsePrivateKey(text)) return "no unencrypted PEM private key found";
  return {};
}

std::string checkPrivateKeyFile(const std::string& path) {
  std::string error;
  const auto text = readFileText(path, error);
  if (!text) return error;
  return checkPrivateKeyPem(*text);
}

std::string checkKeyMatchesCertificatePem(const std::string& certText, const std::string& keyText) {
  const auto certs = parseCertificates(certText);
  const PkeyPtr key = parsePrivateKey(keyText);
  if (!certs || certs->empty() || !key) return "cannot be checked against the certificate";
  const bool matches = X509_check_private_key(certs->front().get(), key.get()) == 1;
  ERR_clear_error();
  if (!matches) return "does not match the certificate";
  return {};
}

std::string checkKeyMatchesCertificate(const std::string& certPath, const std::string& keyPath) {
  std::string error;
  const auto certText = readFileText(certPath, error);
  const auto keyText = certText ? readFileText(keyPath, error) : std::nullopt;
  if (!keyText) return error;
  const std::string problem = checkKeyMatchesCertificatePem(*certText, *keyText);
  return problem == "does not match the certificate" ? "does not match the certificate in certFile"
                                                     : problem;
}

}  // namespace meshgate::dp
