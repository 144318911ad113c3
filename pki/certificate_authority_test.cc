// Tests for pki::CertificateAuthority: the generated root, loading user-supplied CAs, and the
// certificates it issues (names, extensions, validity, verification).
#include "pki/certificate_authority.h"

#include <set>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "pki/trust_bundle.h"

namespace pki {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

// The injected clock: mid-day, with a sub-second part that X.509 cannot store.
const TimePoint kNow = std::chrono::sys_days{std::chrono::year{2030} / 1 / 1} + 12h + 250ms;
const TimePoint kNowSeconds = std::chrono::floor<std::chrono::seconds>(kNow);
constexpr char kSpiffeId[] = "spiffe://cluster.local/ns/shop/sa/orders";

template <class T>
T must(Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

CertificateAuthority newCa(const std::string& name = "meshgate-ca") {
  return must(CertificateAuthority::generate(name, kNow));
}

const X509_EXTENSION* extension(const Certificate& cert, int nid) {
  const int index = X509_get_ext_by_NID(cert.get(), nid, -1);
  return index < 0 ? nullptr : X509_get_ext(cert.get(), index);
}

bool critical(const Certificate& cert, int nid) {
  const X509_EXTENSION* ext = extension(cert, nid);
  return ext != nullptr && X509_EXTENSION_get_critical(ext) == 1;
}

std::string keyIdentifier(const ASN1_OCTET_STRING* id) {
  return id == nullptr ? std::string()
                       : std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(id)),
                                     static_cast<std::size_t>(ASN1_STRING_length(id)));
}

std::string subjectKeyId(const Certificate& cert) {
  return keyIdentifier(X509_get0_subject_key_id(cert.get()));
}

std::string authorityKeyId(const Certificate& cert) {
  return keyIdentifier(X509_get0_authority_key_id(cert.get()));
}

TEST(CertificateAuthorityTest, GeneratedRootIsASelfSignedCaThatMaySignOnly) {
  const CertificateAuthority ca = newCa();
  const Certificate& root = ca.certificate();
  EXPECT_EQ(root.subjectCommonName(), "meshgate-ca");
  EXPECT_EQ(root.issuerCommonName(), "meshgate-ca");
  EXPECT_TRUE(root.isCa());
  EXPECT_TRUE(critical(root, NID_basic_constraints));
  EXPECT_TRUE(critical(root, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(root.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(extension(root, NID_ext_key_usage), nullptr);
  EXPECT_EQ(subjectKeyId(root).size(), 20u);
  EXPECT_EQ(authorityKeyId(root), subjectKeyId(root));
  EXPECT_TRUE(root.isSelfSigned());
  EXPECT_THAT(verifyChain(root, std::vector<Certificate>{root}, kNow), IsEmpty());
}

TEST(CertificateAuthorityTest, GeneratedRootUsesAnEcdsaP256Key) {
  const CertificateAuthority ca = newCa();
  const PrivateKey key = must(PrivateKey::fromPem(must(ca.keyPem())));
  EXPECT_EQ(key.description(), "EC P-256");
  EXPECT_TRUE(ca.certificate().matchesKey(key));
  EXPECT_EQ(X509_get_signature_nid(ca.certificate().get()), NID_ecdsa_with_SHA256);
}

TEST(CertificateAuthorityTest, GeneratedRootLastsTenYearsAndIsBackdatedFiveMinutes) {
  const Certificate root = newCa().certificate();
  EXPECT_EQ(root.notBefore(), kNowSeconds - 5min);
  EXPECT_EQ(root.notAfter(), kNowSeconds + std::chrono::years(10));
}

TEST(CertificateAuthorityTest, GeneratedRootHonoursAGivenLifetime) {
  const auto ca = must(CertificateAuthority::generate("short-ca", 48h, kNow));
  EXPECT_EQ(ca.certificate().notAfter(), kNowSeconds + 48h);
}

TEST(CertificateAuthorityTest, GenerateRefusesAnEmptyName) {
  auto ca = CertificateAuthority::generate("", kNow);
  ASSERT_FALSE(ca.ok());
  EXPECT_THAT(ca.error().message, HasSubstr("commonName must not be empty"));
}

TEST(CertificateAuthorityTest, LoadAcceptsWhatGenerateWrote) {
  const CertificateAuthority ca = newCa();
  const auto loaded =
      must(CertificateAuthority::load(ca.certificatePem(), must(ca.keyPem()), kNow));
  EXPECT_EQ(loaded.certificate(), ca.certificate());
  EXPECT_EQ(loaded.certificatePem(), ca.certificatePem());
  EXPECT_EQ(must(loaded.keyPem()), must(ca.keyPem()));
}

TEST(CertificateAuthorityTest, LoadRefusesANonCaCertificate) {
  const CertificateAuthority ca = newCa();
  const PrivateKey leafKey = must(PrivateKey::generateEcdsaP256());
  const Certificate leaf =
      must(ca.issue(CertificateTemplate::forHosts({"web.example"}), leafKey, kNow));
  auto loaded = CertificateAuthority::load(leaf.toPem(), must(leafKey.toPem()), kNow);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message,
            "CA certificate \"web.example\" is not a CA (basicConstraints CA:TRUE is missing)");
}

TEST(CertificateAuthorityTest, LoadRefusesAKeyThatDoesNotMatch) {
  const CertificateAuthority ca = newCa();
  const std::string otherKeyPem = must(must(PrivateKey::generateEcdsaP256()).toPem());
  auto loaded = CertificateAuthority::load(ca.certificatePem(), otherKeyPem, kNow);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message,
            "CA private key (EC P-256) does not match CA certificate \"meshgate-ca\"");
  EXPECT_THAT(loaded.error().message, Not(HasSubstr("PRIVATE KEY")));
}

TEST(CertificateAuthorityTest, LoadRefusesGarbagePem) {
  const CertificateAuthority ca = newCa();
  auto badCert = CertificateAuthority::load("garbage", must(ca.keyPem()), kNow);
  ASSERT_FALSE(badCert.ok());
  EXPECT_EQ(badCert.error().message, "CA certificate: no PEM certificate found");

  auto badBase64 = CertificateAuthority::load(
      "-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n", must(ca.keyPem()), kNow);
  ASSERT_FALSE(badBase64.ok());
  EXPECT_THAT(badBase64.error().message,
              HasSubstr("CA certificate: certificate 1 in the PEM could not be decoded"));

  auto badKey = CertificateAuthority::load(ca.certificatePem(), "garbage", kNow);
  ASSERT_FALSE(badKey.ok());
  EXPECT_THAT(badKey.error().message, HasSubstr("CA private key: private key PEM could not be"));
}

TEST(CertificateAuthorityTest, LoadRefusesAnExpiredCa) {
  const auto ca = must(CertificateAuthority::generate("old-ca", 1h, kNow));
  auto loaded = CertificateAuthority::load(ca.certificatePem(), must(ca.keyPem()), kNow + 2h);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message, "CA certificate \"old-ca\" expired at 2030-01-01T13:00:00Z");
}

TEST(CertificateAuthorityTest, LoadRefusesACaNotYetValid) {
  const CertificateAuthority ca = newCa();
  auto loaded = CertificateAuthority::load(ca.certificatePem(), must(ca.keyPem()), kNow - 1h);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error().message, HasSubstr("is not valid until 2030-01-01T11:55:00Z"));
}

TEST(CertificateAuthorityTest, LoadRefusesMoreThanOneCertificate) {
  const CertificateAuthority ca = newCa();
  const CertificateAuthority other = newCa("other-ca");
  auto loaded = CertificateAuthority::load(ca.certificatePem() + other.certificatePem(),
                                           must(ca.keyPem()), kNow);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error().message, HasSubstr("PEM holds 2 certificates"));
}

TEST(CertificateAuthorityTest, LoadRefusesAnIntermediateCa) {
  const CertificateAuthority root = newCa();
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  CertificateTemplate t;
  t.commonName = "intermediate";
  t.isCa = true;
  const Certificate intermediate = must(root.issue(t, key, kNow));
  ASSERT_TRUE(intermediate.isCa());
  auto loaded = CertificateAuthority::load(intermediate.toPem(), must(key.toPem()), kNow);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.error().message, HasSubstr("is not self-signed"));
}

TEST(CertificateAuthorityTest, IssuesSpiffeLeafWhoseNamesReadBackExactly) {
  const CertificateAuthority ca = newCa();
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  const Certificate leaf = must(ca.issue(CertificateTemplate::forWorkload(kSpiffeId), key, kNow));
  EXPECT_THAT(leaf.uris(), ElementsAre(kSpiffeId));
  EXPECT_THAT(leaf.dnsNames(), IsEmpty());
  EXPECT_THAT(leaf.ipAddresses(), IsEmpty());
  EXPECT_EQ(leaf.subjectCommonName(), "");
  EXPECT_EQ(leaf.issuerCommonName(), "meshgate-ca");
  EXPECT_FALSE(leaf.isCa());
  EXPECT_TRUE(leaf.matchesKey(key));
  EXPECT_FALSE(leaf.matchesKey(must(PrivateKey::generateEcdsaP256())));
  // RFC 5280 §4.2.1.6: with an empty subject the SAN extension is the identity and critical.
  EXPECT_TRUE(critical(leaf, NID_subject_alt_name));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
}

TEST(CertificateAuthorityTest, IssuesHostCertificateWithDnsAndIpNames) {
  const CertificateAuthority ca = newCa();
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  auto t = CertificateTemplate::forHosts(
      {"api.example.com", "*.apps.example.com", "10.0.0.7", "fd00:0::1"}, 90 * 24h);
  t.organizations = {"meshgate", "shop"};
  const Certificate leaf = must(ca.issue(t, key, kNow));
  EXPECT_EQ(leaf.subjectCommonName(), "api.example.com");
  EXPECT_THAT(leaf.organizations(), ElementsAre("meshgate", "shop"));
  EXPECT_THAT(leaf.dnsNames(), ElementsAre("api.example.com", "*.apps.example.com"));
  EXPECT_THAT(leaf.ipAddresses(), ElementsAre("10.0.0.7", "fd00::1"));
  EXPECT_THAT(leaf.uris(), IsEmpty());
  EXPECT_FALSE(critical(leaf, NID_subject_alt_name));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(leaf.notAfter(), kNowSeconds + 90 * 24h);
}

TEST(CertificateAuthorityTest, IssuedLeafIsAnEndEntityForSigningOnly) {
  const CertificateAuthority ca = newCa();
  const Certificate leaf = must(ca.issue(CertificateTemplate::forWorkload(kSpiffeId),
                                         must(PrivateKey::generateEcdsaP256()), kNow));
  EXPECT_NE(extension(leaf, NID_basic_constraints), nullptr);
  EXPECT_TRUE(critical(leaf, NID_basic_constraints));
  EXPECT_FALSE(leaf.isCa());
  EXPECT_TRUE(critical(leaf, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(subjectKeyId(leaf).size(), 20u);
  EXPECT_EQ(authorityKeyId(leaf), subjectKeyId(ca.certificate()));
  EXPECT_EQ(X509_get_version(leaf.get()), X509_VERSION_3);
}

TEST(CertificateAuthorityTest, IssuedLeafIsBackdatedAndLivesItsLifetime) {
  const CertificateAuthority ca = newCa();
  const Certificate leaf = must(ca.issue(CertificateTemplate::forWorkload(kSpiffeId),
                                         must(PrivateKey::generateEcdsaP256()), kNow + 1h));
  EXPECT_EQ(leaf.notBefore(), kNowSeconds + 1h - 5min);
  EXPECT_EQ(leaf.notAfter(), kNowSeconds + 1h + 24h);
}

TEST(CertificateAuthorityTest, IssuedLeafVerifiesAgainstItsCaButNotAnother) {
  const CertificateAuthority ca = newCa();
  const CertificateAuthority other = newCa("other-ca");
  const Certificate leaf = must(ca.issue(CertificateTemplate::forWorkload(kSpiffeId),
                                         must(PrivateKey::generateEcdsaP256()), kNow));
  EXPECT_THAT(verifyChain(leaf, ca.certificatePem(), kNow), IsEmpty());
  EXPECT_THAT(verifyChain(leaf, other.certificatePem(), kNow),
              HasSubstr("unable to get local issuer certificate"));
  EXPECT_TRUE(leaf.isSignedBy(ca.certificate()));
  EXPECT_FALSE(leaf.isSignedBy(other.certificate()));
}

TEST(CertificateAuthorityTest, LeafNeverOutlivesItsCa) {
  const auto ca = must(CertificateAuthority::generate("short-ca", 10h, kNow));
  auto t = CertificateTemplate::forWorkload(kSpiffeId, 24h);
  const Certificate leaf = must(ca.issue(t, must(PrivateKey::generateEcdsaP256()), kNow + 1h));
  EXPECT_EQ(leaf.notAfter(), ca.certificate().notAfter());
  EXPECT_THAT(verifyChain(leaf, ca.certificatePem(), ca.certificate().notAfter() - 1s), IsEmpty());
}

TEST(CertificateAuthorityTest, LeafNeverStartsBeforeItsCa) {
  const CertificateAuthority ca = newCa();
  auto t = CertificateTemplate::forWorkload(kSpiffeId);
  t.backdate = 1h;
  const Certificate leaf = must(ca.issue(t, must(PrivateKey::generateEcdsaP256()), kNow));
  EXPECT_EQ(leaf.notBefore(), ca.certificate().notBefore());
}

TEST(CertificateAuthorityTest, SerialsAreRandom128BitPositiveAndUnique) {
  const CertificateAuthority ca = newCa();
  const PrivateKey key = must(PrivateKey::generateEcdsaP256());
  std::set<std::string> serials;
  for (int i = 0; i < 32; ++i) {
    const Certificate leaf = must(ca.issue(CertificateTemplate::forWorkload(kSpiffeId), key, kNow));
    const std::string serial = leaf.serialHex();
    EXPECT_LE(serial.size(), 32u);
    EXPECT_NE(serial.front(), '-');
    serials.insert(serial);
  }
  EXPECT_EQ(serials.size(), 32u);
}

TEST(CertificateAuthorityTest, IssueRefusesOnceTheCaHasExpired) {
  const auto ca = must(CertificateAuthority::generate("old-ca", 1h, kNow));
  auto leaf = ca.issue(CertificateTemplate::forWorkload(kSpiffeId),
                       must(PrivateKey::generateEcdsaP256()), kNow + 1h);
  ASSERT_FALSE(leaf.ok());
  EXPECT_EQ(leaf.error().message,
            "CA certificate \"old-ca\" expired at 2030-01-01T13:00:00Z; rotate the CA");
}

TEST(CertificateAuthorityTest, IssueRefusesAnInvalidTemplate) {
  const CertificateAuthority ca = newCa();
  auto leaf = ca.issue(CertificateTemplate::forHosts({"bad host"}),
                       must(PrivateKey::generateEcdsaP256()), kNow);
  ASSERT_FALSE(leaf.ok());
  EXPECT_THAT(leaf.error().message, HasSubstr("dnsNames entry \"bad host\""));
}

TEST(CertificateAuthorityTest, CopiesIssueForTheSameRoot) {
  const CertificateAuthority ca = newCa();
  const CertificateAuthority copy = ca;  // NOLINT(performance-unnecessary-copy-initialization)
  const Certificate leaf = must(copy.issue(CertificateTemplate::forWorkload(kSpiffeId),
                                           must(PrivateKey::generateEcdsaP256()), kNow));
  EXPECT_THAT(verifyChain(leaf, ca.certificatePem(), kNow), IsEmpty());
}

}  // namespace
}  // namespace pki
