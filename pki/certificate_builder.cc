#include "pki/certificate_builder.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/asn1_time.h"
#include "pki/ip_address.h"
#include "pki/openssl_error.h"
#include "pki/openssl_ptr.h"

namespace pki {
namespace {

// keyUsage bit numbers, RFC 5280 §4.2.1.3.
constexpr int kDigitalSignature = 0;
constexpr int kKeyEncipherment = 2;
constexpr int kKeyCertSign = 5;
constexpr int kCrlSign = 6;

// 128 random bits (RFC 5280 allows up to 20 octets; CA/B asks for at least 64 random bits), so
// serials are unique without any state shared between operator replicas.
Status setRandomSerial(X509* x509) {
  unsigned char bytes[16];
  BignumPtr serial;
  do {
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) return openSslError("generating a serial number");
    serial.reset(BN_bin2bn(bytes, sizeof(bytes), nullptr));
    if (!serial) return openSslError("generating a serial number");
  } while (BN_is_zero(serial.get()));  // serials must be positive
  Asn1IntegerPtr asn1(BN_to_ASN1_INTEGER(serial.get(), nullptr));
  if (!asn1 || X509_set_serialNumber(x509, asn1.get()) != 1) {
    return openSslError("setting the serial number");
  }
  return Ok{};
}

Status addNameEntry(X509_NAME* name, int nid, const std::string& value) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return openSslError(std::string("setting subject ") + OBJ_nid2sn(nid) + " \"" + value + "\"");
  }
  return Ok{};
}

// Adds `value` (an OpenSSL extension structure of the type registered for `nid`) to the
// certificate; OpenSSL encodes a copy, the caller keeps ownership.
Status addExtension(X509* x509, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(x509, nid, value, critical ? 1 : 0, X509V3_ADD_REPLACE) != 1) {
    return openSslError(std::string("adding the ") + OBJ_nid2ln(nid) + " extension");
  }
  return Ok{};
}

Status addBasicConstraints(X509* x509, bool isCa) {
  BasicConstraintsPtr bc(BASIC_CONSTRAINTS_new());
  if (!bc) return openSslError("allocating basicConstraints");
  bc->ca = isCa ? 0xFF : 0;
  return addExtension(x509, NID_basic_constraints, bc.get(), true);
}

Status addKeyUsage(X509* x509, const CertificateTemplate& t, const PrivateKey& subjectKey) {
  Asn1BitStringPtr usage(ASN1_BIT_STRING_new());
  if (!usage) return openSslError("allocating keyUsage");
  std::vector<int> bits;
  if (t.isCa) {
    bits = {kKeyCertSign, kCrlSign};
  } else {
    bits = {kDigitalSignature};
    // Only RSA keys encrypt a TLS premaster secret; EC keys never do.
    if (EVP_PKEY_is_a(subjectKey.get(), "RSA")) bits.push_back(kKeyEncipherment);
  }
  for (int bit : bits) {
    if (ASN1_BIT_STRING_set_bit(usage.get(), bit, 1) != 1) return openSslError("setting keyUsage");
  }
  return addExtension(x509, NID_key_usage, usage.get(), true);
}

Status addExtendedKeyUsage(X509* x509, const CertificateTemplate& t) {
  if (!t.serverAuth && !t.clientAuth) return Ok{};
  ExtendedKeyUsagePtr eku(sk_ASN1_OBJECT_new_null());
  if (!eku) return openSslError("allocating extendedKeyUsage");
  // OBJ_nid2obj returns static objects; freeing them with the stack is a no-op.
  if ((t.serverAuth && sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_server_auth)) <= 0) ||
      (t.clientAuth && sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_client_auth)) <= 0)) {
    return openSslError("setting extendedKeyUsage");
  }
  return addExtension(x509, NID_ext_key_usage, eku.get(), false);
}

Status pushName(GENERAL_NAMES* names, int type, const std::string& value) {
  GeneralNamePtr name(GENERAL_NAME_new());
  Asn1OctetStringPtr text(
      ASN1_STRING_type_new(type == GEN_IPADD ? V_ASN1_OCTET_STRING : V_ASN1_IA5STRING));
  if (!name || !text ||
      ASN1_STRING_set(text.get(), value.data(), static_cast<int>(value.size())) != 1) {
    return openSslError("allocating a subjectAltName entry");
  }
  GENERAL_NAME_set0_value(name.get(), type, text.release());
  if (sk_GENERAL_NAME_push(names, name.get()) <= 0) {
    return openSslError("adding a subjectAltName entry");
  }
  name.release();  // now owned by `names`
  return Ok{};
}

Status addSubjectAltNames(X509* x509, const CertificateTemplate& t) {
  if (t.dnsNames.empty() && t.uris.empty() && t.ipAddresses.empty()) return Ok{};
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return openSslError("allocating subjectAltName");
  for (const auto& dns : t.dnsNames) {
    if (auto s = pushName(names.get(), GEN_DNS, dns); !s) return s;
  }
  for (const auto& uri : t.uris) {
    if (auto s = pushName(names.get(), GEN_URI, uri); !s) return s;
  }
  for (const auto& ip : t.ipAddresses) {
    const auto bytes = ipAddressBytes(ip);  // validated before, so present
    if (!bytes) return Error{"ipAddresses entry \"" + ip + "\" is not an IP address"};
    if (auto s = pushName(names.get(), GEN_IPADD, *bytes); !s) return s;
  }
  // RFC 5280 §4.2.1.6: critical when the subject is empty and the SANs are the identity.
  const bool emptySubject = t.commonName.empty() && t.organizations.empty();
  return addExtension(x509, NID_subject_alt_name, names.get(), emptySubject);
}

// subjectKeyIdentifier by RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits —
// what OpenSSL's "hash" and most CAs produce, so user-supplied CAs look the same.
Result<std::string> subjectKeyIdentifier(X509* x509) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(x509, EVP_sha1(), digest, &len) != 1) {
    return openSslError("computing the subjectKeyIdentifier");
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

Asn1OctetStringPtr octetString(const std::string& bytes) {
  Asn1OctetStringPtr s(ASN1_OCTET_STRING_new());
  if (s && ASN1_OCTET_STRING_set(s.get(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                 static_cast<int>(bytes.size())) != 1) {
    s.reset();
  }
  return s;
}

Status addSubjectKeyIdentifier(X509* x509, const std::string& keyId) {
  Asn1OctetStringPtr ski = octetString(keyId);
  if (!ski) return openSslError("setting the subjectKeyIdentifier");
  return addExtension(x509, NID_subject_key_identifier, ski.get(), false);
}

// authorityKeyIdentifier = the signer's subjectKeyIdentifier, so verifiers pick the right CA
// certificate during rotation, when the old and new root share a name. Omitted when the signer
// has none (possible for a user-supplied CA).
Status addAuthorityKeyIdentifier(X509* x509, const std::string& signerKeyId) {
  if (signerKeyId.empty()) return Ok{};
  AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
  if (!akid || (akid->keyid = octetString(signerKeyId).release()) == nullptr) {
    return openSslError("setting the authorityKeyIdentifier");
  }
  return addExtension(x509, NID_authority_key_identifier, akid.get(), false);
}

std::string keyIdOf(const Certificate& cert) {
  const ASN1_OCTET_STRING* id = X509_get0_subject_key_id(cert.get());
  if (id == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(id)),
                     static_cast<std::size_t>(ASN1_STRING_length(id)));
}

// EdDSA signs the message itself and takes no separate digest.
const EVP_MD* signatureDigest(const PrivateKey& key) {
  if (EVP_PKEY_is_a(key.get(), "ED25519") || EVP_PKEY_is_a(key.get(), "ED448")) return nullptr;
  return EVP_sha256();
}

}  // namespace

Result<Certificate> buildCertificate(const CertificateTemplate& t, const PrivateKey& subjectKey,
                                     const Validity& validity, const Certificate* issuer,
                                     const PrivateKey& signingKey) {
  if (auto valid = validateTemplate(t); !valid) return valid.error();
  if (validity.notAfter <= validity.notBefore) {
    return Error{"empty validity period: notAfter " + formatTime(validity.notAfter) +
                 " is not after notBefore " + formatTime(validity.notBefore)};
  }
  X509Ptr x509(X509_new());
  if (!x509 || X509_set_version(x509.get(), X509_VERSION_3) != 1) {
    return openSslError("allocating the certificate");
  }
  if (auto s = setRandomSerial(x509.get()); !s) return s.error();

  X509_NAME* subject = X509_get_subject_name(x509.get());
  for (const auto& org : t.organizations) {
    if (auto s = addNameEntry(subject, NID_organizationName, org); !s) return s.error();
  }
  if (!t.commonName.empty()) {
    if (auto s = addNameEntry(subject, NID_commonName, t.commonName); !s) return s.error();
  }
  X509* signer = issuer != nullptr ? issuer->get() : x509.get();
  if (X509_set_issuer_name(x509.get(), X509_get_subject_name(signer)) != 1) {
    return openSslError("setting the issuer name");
  }
  if (!setAsn1Time(X509_getm_notBefore(x509.get()), validity.notBefore) ||
      !setAsn1Time(X509_getm_notAfter(x509.get()), validity.notAfter)) {
    return openSslError("setting the validity period");
  }
  if (X509_set_pubkey(x509.get(), subjectKey.get()) != 1) {
    return openSslError("setting the public key");
  }

  if (auto s = addBasicConstraints(x509.get(), t.isCa); !s) return s.error();
  if (auto s = addKeyUsage(x509.get(), t, subjectKey); !s) return s.error();
  if (auto s = addExtendedKeyUsage(x509.get(), t); !s) return s.error();
  if (auto s = addSubjectAltNames(x509.get(), t); !s) return s.error();
  const auto keyId = subjectKeyIdentifier(x509.get());
  if (!keyId) return keyId.error();
  if (auto s = addSubjectKeyIdentifier(x509.get(), *keyId); !s) return s.error();
  const std::string signerKeyId = issuer != nullptr ? keyIdOf(*issuer) : *keyId;
  if (auto s = addAuthorityKeyIdentifier(x509.get(), signerKeyId); !s) return s.error();

  if (X509_sign(x509.get(), signingKey.get(), signatureDigest(signingKey)) <= 0) {
    return openSslError("signing the certificate");
  }
  // Re-read from DER: OpenSSL caches decoded extensions on an X509 the first time they are asked
  // for, and the object built here was modified after that may have happened; a fresh one has
  // nothing stale.
  auto built = Certificate::adopt(x509.release());
  if (!built) return built.error();
  return Certificate::fromDer(built->der());
}

}  // namespace pki
