#include "pki/certificate.h"

#include <climits>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/asn1_time.h"
#include "pki/ip_address.h"
#include "pki/openssl_error.h"
#include "pki/openssl_ptr.h"

namespace pki {
namespace {

std::string asn1StringText(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

// Every entry of type `nid` in `name`, converted to UTF-8 whatever string type it was stored as.
std::vector<std::string> nameEntries(const X509_NAME* name, int nid) {
  std::vector<std::string> values;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    unsigned char* utf8 = nullptr;
    const int len =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (len < 0) {
      clearOpenSslErrors();
      continue;
    }
    values.emplace_back(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
  }
  return values;
}

std::string firstOrEmpty(std::vector<std::string> values) {
  return values.empty() ? std::string() : std::move(values.front());
}

std::string rfc2253(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    clearOpenSslErrors();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// The subjectAltName entries of one GENERAL_NAME type, as text.
std::vector<std::string> altNames(X509* x509, int type) {
  std::vector<std::string> values;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509, NID_subject_alt_name, nullptr, nullptr)));
  clearOpenSslErrors();  // absent or undecodable: no names
  if (!names) return values;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != type) continue;
    switch (type) {
      case GEN_DNS:
        values.push_back(asn1StringText(name->d.dNSName));
        break;
      case GEN_URI:
        values.push_back(asn1StringText(name->d.uniformResourceIdentifier));
        break;
      case GEN_IPADD:
        // Lengths other than 4 and 16 are malformed in a SAN; they name no address.
        if (auto text = ipAddressText(asn1StringText(name->d.iPAddress))) {
          values.push_back(std::move(*text));
        }
        break;
    }
  }
  return values;
}

std::string base64Lines(const std::string& der) {
  std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(der.data()),
                                static_cast<int>(der.size()));
  b64.resize(static_cast<std::size_t>(n));
  std::string lines;
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    lines.append(b64, i, 64);
    lines += '\n';
  }
  return lines;
}

std::string hex(const unsigned char* data, std::size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (std::size_t i = 0; i < len; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

}  // namespace

Result<Certificate> Certificate::adopt(X509* x509) {
  X509Ptr owned(x509);
  if (!owned) return Error{"no certificate"};
  unsigned char* der = nullptr;
  const int len = i2d_X509(owned.get(), &der);
  if (len <= 0) return openSslError("encoding the certificate");
  Certificate cert;
  cert.der_.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  const auto notBefore = fromAsn1Time(X509_get0_notBefore(owned.get()));
  const auto notAfter = fromAsn1Time(X509_get0_notAfter(owned.get()));
  if (!notBefore || !notAfter) {
    clearOpenSslErrors();
    return Error{"certificate has a malformed validity period"};
  }
  cert.notBefore_ = *notBefore;
  cert.notAfter_ = *notAfter;
  cert.x509_ = std::shared_ptr<X509>(owned.release(), X509_free);
  return cert;
}

Result<Certificate> Certificate::fromDer(std::string_view der) {
  if (der.size() > static_cast<std::size_t>(INT_MAX)) return Error{"certificate DER is too large"};
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509) {
    return Error{"certificate DER could not be decoded (" + drainOpenSslErrors() + ")"};
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return Error{"certificate DER has trailing bytes"};
  }
  return adopt(x509.release());
}

Result<Certificate> Certificate::fromPem(std::string_view pem) {
  auto certs = parseCertificates(pem);
  if (!certs) return certs.error();
  if (certs->size() != 1) {
    return Error{"PEM holds " + std::to_string(certs->size()) +
                 " certificates where exactly one was expected"};
  }
  return std::move(certs->front());
}

Result<std::vector<Certificate>> parseCertificates(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) return Error{"certificate PEM is too large"};
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return openSslError("reading the certificate PEM");
  std::vector<Certificate> certs;
  for (;;) {
    X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (x509 == nullptr) {
      const unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        clearOpenSslErrors();  // the normal end of the bundle
        break;
      }
      return Error{"certificate " + std::to_string(certs.size() + 1) +
                   " in the PEM could not be decoded (" + drainOpenSslErrors() + ")"};
    }
    auto cert = Certificate::adopt(x509);
    if (!cert) return cert.error();
    certs.push_back(std::move(*cert));
  }
  if (certs.empty()) return Error{"no PEM certificate found"};
  return certs;
}

std::string Certificate::subjectCommonName() const {
  return firstOrEmpty(nameEntries(X509_get_subject_name(get()), NID_commonName));
}

std::string Certificate::issuerCommonName() const {
  return firstOrEmpty(nameEntries(X509_get_issuer_name(get()), NID_commonName));
}

std::string Certificate::subjectName() const {
  return rfc2253(X509_get_subject_name(get()));
}

std::string Certificate::issuerName() const {
  return rfc2253(X509_get_issuer_name(get()));
}

std::vector<std::string> Certificate::organizations() const {
  return nameEntries(X509_get_subject_name(get()), NID_organizationName);
}

std::string Certificate::serialHex() const {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(get()), nullptr));
  char* text = bn ? BN_bn2hex(bn.get()) : nullptr;
  if (text == nullptr) {
    clearOpenSslErrors();
    return {};
  }
  std::string serial(text);
  OPENSSL_free(text);
  return serial;
}

std::vector<std::string> Certificate::dnsNames() const {
  return altNames(get(), GEN_DNS);
}

std::vector<std::string> Certificate::uris() const {
  return altNames(get(), GEN_URI);
}

std::vector<std::string> Certificate::ipAddresses() const {
  return altNames(get(), GEN_IPADD);
}

bool Certificate::isCa() const {
  return (X509_get_extension_flags(get()) & EXFLAG_CA) != 0;
}

bool Certificate::isSelfSigned() const {
  const bool selfSigned = X509_self_signed(get(), 1) == 1;
  clearOpenSslErrors();
  return selfSigned;
}

bool Certificate::matchesKey(const PrivateKey& key) const {
  const EVP_PKEY* publicKey = X509_get0_pubkey(get());
  const bool matches = publicKey != nullptr && EVP_PKEY_eq(publicKey, key.get()) == 1;
  clearOpenSslErrors();
  return matches;
}

bool Certificate::isSignedBy(const Certificate& issuer) const {
  EVP_PKEY* issuerKey = X509_get0_pubkey(issuer.get());
  const bool signedBy =
      X509_NAME_cmp(X509_get_issuer_name(get()), X509_get_subject_name(issuer.get())) == 0 &&
      issuerKey != nullptr && X509_verify(get(), issuerKey) == 1;
  clearOpenSslErrors();
  return signedBy;
}

std::string Certificate::toPem() const {
  return "-----BEGIN CERTIFICATE-----\n" + base64Lines(der_) + "-----END CERTIFICATE-----\n";
}

std::string Certificate::sha256Fingerprint() const {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(der_.data()), der_.size(), digest);
  return hex(digest, sizeof(digest));
}

}  // namespace pki
