// Tests for pki::Certificate parsing and encoding; the accessors on issued certificates are
// exercised in certificate_authority_test.cc.
#include "pki/certificate.h"

#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>

#include "pki/certificate_authority.h"

namespace pki {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using namespace std::chrono_literals;

const std::chrono::system_clock::time_point kNow =
    std::chrono::sys_days{std::chrono::year{2030} / 1 / 1};

template <class T>
T must(Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

Certificate newRoot(const std::string& name) {
  return must(CertificateAuthority::generate(name, kNow)).certificate();
}

TEST(CertificateTest, PemRoundTripsByteForByte) {
  const Certificate root = newRoot("a");
  const std::string pem = root.toPem();
  EXPECT_THAT(pem, StartsWith("-----BEGIN CERTIFICATE-----\n"));
  EXPECT_EQ(pem.back(), '\n');
  const Certificate back = must(Certificate::fromPem(pem));
  EXPECT_EQ(back, root);
  EXPECT_EQ(back.toPem(), pem);
}

TEST(CertificateTest, PemLinesAreAtMost64Characters) {
  const std::string pem = newRoot("a").toPem();
  std::size_t start = 0;
  while (start < pem.size()) {
    const std::size_t end = pem.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    if (pem.compare(start, 5, "-----") != 0) {
      EXPECT_LE(end - start, 64u);
    }
    start = end + 1;
  }
}

TEST(CertificateTest, DerRoundTripsAndRefusesTrailingBytes) {
  const Certificate root = newRoot("a");
  EXPECT_EQ(must(Certificate::fromDer(root.der())), root);
  auto trailing = Certificate::fromDer(root.der() + "x");
  ASSERT_FALSE(trailing.ok());
  EXPECT_THAT(trailing.error().message, HasSubstr("trailing bytes"));
  EXPECT_FALSE(Certificate::fromDer("").ok());
}

TEST(CertificateTest, ParsesEveryCertificateOfABundleInOrder) {
  const Certificate a = newRoot("a");
  const Certificate b = newRoot("b");
  const std::string bundle = "# roots\n" + a.toPem() + "\nsome comment\n" + b.toPem();
  const auto certs = must(parseCertificates(bundle));
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[0], a);
  EXPECT_EQ(certs[1], b);
}

TEST(CertificateTest, EmptyOrGarbagePemIsRefused) {
  for (const char* pem :
       {"", "garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}) {
    auto certs = parseCertificates(pem);
    ASSERT_FALSE(certs.ok()) << pem;
    EXPECT_EQ(certs.error().message, "no PEM certificate found");
  }
  auto corrupt =
      parseCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_THAT(corrupt.error().message, HasSubstr("certificate 1 in the PEM could not be decoded"));
}

TEST(CertificateTest, CorruptBlockAfterAGoodOneIsReportedByPosition) {
  const std::string bundle =
      newRoot("a").toPem() + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  auto certs = parseCertificates(bundle);
  ASSERT_FALSE(certs.ok());
  EXPECT_THAT(certs.error().message, HasSubstr("certificate 2 in the PEM"));
}

TEST(CertificateTest, FromPemWantsExactlyOneCertificate) {
  auto two = Certificate::fromPem(newRoot("a").toPem() + newRoot("b").toPem());
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().message, "PEM holds 2 certificates where exactly one was expected");
}

TEST(CertificateTest, ParsingLeavesNoOpenSslErrorBehind) {
  ERR_clear_error();
  EXPECT_TRUE(parseCertificates(newRoot("a").toPem()).ok());
  EXPECT_EQ(ERR_peek_error(), 0UL);
  EXPECT_FALSE(
      parseCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").ok());
  EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(CertificateTest, FingerprintIsLowerCaseSha256Hex) {
  const Certificate a = newRoot("a");
  EXPECT_THAT(a.sha256Fingerprint(), MatchesRegex("[0-9a-f]{64}"));
  EXPECT_EQ(a.sha256Fingerprint(), must(Certificate::fromPem(a.toPem())).sha256Fingerprint());
  EXPECT_NE(a.sha256Fingerprint(), newRoot("a").sha256Fingerprint());
}

TEST(CertificateTest, NamesReadBackAsText) {
  const Certificate a = newRoot("meshgate-ca");
  EXPECT_EQ(a.subjectName(), "CN=meshgate-ca");
  EXPECT_EQ(a.issuerName(), "CN=meshgate-ca");
  EXPECT_THAT(a.serialHex(), MatchesRegex("[0-9A-F]+"));
}

}  // namespace
}  // namespace pki
