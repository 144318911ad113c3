#include "pki/private_key.h"

#include <climits>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki/openssl_error.h"
#include "pki/openssl_ptr.h"

namespace pki {
namespace {

// Refuses to decrypt instead of letting OpenSSL prompt on the controlling terminal.
int refusePassphrase(char*, int, int, void*) {
  return -1;
}

bool looksEncrypted(std::string_view pem) {
  return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
         pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

}  // namespace

Result<PrivateKey> PrivateKey::adopt(EVP_PKEY* key) {
  EvpPkeyPtr owned(key);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(owned.get(), &der);
  if (len <= 0) return openSslError("encoding the public key");
  std::string publicKeyDer(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return PrivateKey(std::shared_ptr<EVP_PKEY>(owned.release(), EVP_PKEY_free),
                    std::move(publicKeyDer));
}

Result<PrivateKey> PrivateKey::generateEcdsaP256() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return openSslError("generating an ECDSA P-256 key");
  return adopt(key);
}

Result<PrivateKey> PrivateKey::fromPem(std::string_view pem) {
  if (looksEncrypted(pem)) {
    return Error{"private key PEM is encrypted; an unencrypted key is required"};
  }
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) return Error{"private key PEM is too large"};
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return openSslError("reading the private key PEM");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, nullptr);
  if (key == nullptr) {
    return Error{"private key PEM could not be decoded (" + drainOpenSslErrors() + ")"};
  }
  return adopt(key);
}

Result<std::string> PrivateKey::toPem() const {
  // Secure-heap BIO: the buffer holding the encoded key is cleansed when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    return openSslError("encoding the private key");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

bool PrivateKey::samePublicKey(const PrivateKey& other) const {
  const bool same = EVP_PKEY_eq(key_.get(), other.key_.get()) == 1;
  clearOpenSslErrors();  // a type mismatch (EC vs RSA) is an answer, not a failure
  return same;
}

std::string PrivateKey::description() const {
  if (EVP_PKEY_is_a(key_.get(), "EC")) {
    char group[64];
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key_.get(), group, sizeof(group), &len) == 1) {
      const int nid = OBJ_txt2nid(group);
      const char* nist = nid != NID_undef ? EC_curve_nid2nist(nid) : nullptr;
      return std::string("EC ") + (nist != nullptr ? nist : group);
    }
    clearOpenSslErrors();
    return "EC";
  }
  const char* type = EVP_PKEY_get0_type_name(key_.get());
  std::string name = type != nullptr ? type : "unknown";
  if (EVP_PKEY_is_a(key_.get(), "RSA")) name += " " + std::to_string(EVP_PKEY_get_bits(key_.get()));
  return name;
}

}  // namespace pki
