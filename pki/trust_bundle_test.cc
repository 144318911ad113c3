// Tests for buildTrustBundle() and verifyChain(), including the CA rotation overlap.
#include "pki/trust_bundle.h"

#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pki/certificate_authority.h"

namespace pki {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

const TimePoint kNow = std::chrono::sys_days{std::chrono::year{2030} / 1 / 1};
constexpr char kSpiffeId[] = "spiffe://cluster.local/ns/shop/sa/orders";

template <class T>
T must(Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

CertificateAuthority newCa(const std::string& name, TimePoint at,
                           std::chrono::seconds lifetime = CertificateAuthority::kDefaultLifetime) {
  return must(CertificateAuthority::generate(name, lifetime, at));
}

Certificate leafOf(const CertificateAuthority& ca, TimePoint at) {
  return must(ca.issue(CertificateTemplate::forWorkload(kSpiffeId),
                       must(PrivateKey::generateEcdsaP256()), at));
}

std::vector<std::string> fingerprints(const std::string& bundlePem) {
  std::vector<std::string> out;
  for (const auto& cert : must(parseCertificates(bundlePem))) {
    out.push_back(cert.sha256Fingerprint());
  }
  return out;
}

TEST(TrustBundleTest, RotationOverlapVerifiesLeavesOfBothRoots) {
  const auto oldCa = newCa("meshgate-ca", kNow - 24h * 365);
  const auto newCaNow = newCa("meshgate-ca", kNow);
  const Certificate oldLeaf = leafOf(oldCa, kNow - 1h);
  const Certificate newLeaf = leafOf(newCaNow, kNow);
  const std::string bundle =
      must(buildTrustBundle({oldCa.certificate(), newCaNow.certificate()}, kNow));

  // Both roots share a name; the leaves' authority key identifiers pick the right one.
  EXPECT_THAT(verifyChain(oldLeaf, bundle, kNow), IsEmpty());
  EXPECT_THAT(verifyChain(newLeaf, bundle, kNow), IsEmpty());
  // Without the overlap, the old generation's leaves stop verifying.
  EXPECT_THAT(verifyChain(oldLeaf, newCaNow.certificatePem(), kNow),
              HasSubstr("unable to get local issuer certificate"));
}

TEST(TrustBundleTest, NewestRootComesFirst) {
  const auto older = newCa("a", kNow - 48h);
  const auto newer = newCa("b", kNow);
  const std::string bundle =
      must(buildTrustBundle({older.certificate(), newer.certificate()}, kNow));
  EXPECT_THAT(fingerprints(bundle), ElementsAre(newer.certificate().sha256Fingerprint(),
                                                older.certificate().sha256Fingerprint()));
}

TEST(TrustBundleTest, ExpiredRootIsDropped) {
  const auto expired = newCa("old", kNow - 2h, 1h);
  const auto current = newCa("new", kNow);
  const std::string bundle =
      must(buildTrustBundle({expired.certificate(), current.certificate()}, kNow));
  EXPECT_THAT(fingerprints(bundle), ElementsAre(current.certificate().sha256Fingerprint()));
}

TEST(TrustBundleTest, DuplicateRootsCollapse) {
  const auto a = newCa("a", kNow);
  const auto b = newCa("b", kNow - 1h);
  const std::string bundle =
      must(buildTrustBundle({a.certificate(), a.certificate(), b.certificate(),
                             must(Certificate::fromPem(a.certificatePem()))},
                            kNow));
  EXPECT_EQ(fingerprints(bundle).size(), 2u);
}

TEST(TrustBundleTest, SameRootsInAnyOrderGiveIdenticalPem) {
  // Same notBefore: the fingerprint breaks the tie, so the output is still deterministic.
  const auto a = newCa("a", kNow);
  const auto b = newCa("b", kNow);
  const auto c = newCa("c", kNow - 1h);
  const std::string one =
      must(buildTrustBundle({a.certificate(), b.certificate(), c.certificate()}, kNow));
  const std::string two =
      must(buildTrustBundle({c.certificate(), b.certificate(), a.certificate()}, kNow));
  EXPECT_EQ(one, two);
}

TEST(TrustBundleTest, NonCaCertificateIsRefused) {
  const auto ca = newCa("a", kNow);
  const Certificate leaf = leafOf(ca, kNow);
  auto bundle = buildTrustBundle({ca.certificate(), leaf}, kNow);
  ASSERT_FALSE(bundle.ok());
  EXPECT_THAT(bundle.error().message, HasSubstr("is not a CA"));
}

TEST(TrustBundleTest, BundleWithNothingValidIsRefused) {
  const auto expired = newCa("old", kNow - 2h, 1h);
  auto bundle = buildTrustBundle({expired.certificate()}, kNow);
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.error().message, "trust bundle: none of the 1 CA certificates is still valid");
  EXPECT_FALSE(buildTrustBundle({}, kNow).ok());
}

TEST(TrustBundleTest, VerifyReportsAnExpiredLeaf) {
  const auto ca = newCa("a", kNow);
  const Certificate leaf = leafOf(ca, kNow);
  EXPECT_THAT(verifyChain(leaf, ca.certificatePem(), leaf.notAfter() - 1s), IsEmpty());
  EXPECT_THAT(verifyChain(leaf, ca.certificatePem(), leaf.notAfter() + 1s),
              StartsWith("certificate has expired (depth 0"));
}

TEST(TrustBundleTest, VerifyReportsALeafNotYetValid) {
  const auto ca = newCa("a", kNow - 24h);
  const Certificate leaf = leafOf(ca, kNow);
  EXPECT_THAT(verifyChain(leaf, ca.certificatePem(), leaf.notBefore() - 1s),
              StartsWith("certificate is not yet valid"));
}

TEST(TrustBundleTest, VerifyReportsAnUnknownIssuerWithItsSubject) {
  const auto ca = newCa("a", kNow);
  const auto other = newCa("b", kNow);
  const auto host = must(ca.issue(CertificateTemplate::forHosts({"web.example"}),
                                  must(PrivateKey::generateEcdsaP256()), kNow));
  EXPECT_EQ(verifyChain(host, other.certificatePem(), kNow),
            "unable to get local issuer certificate (depth 0, subject \"CN=web.example\")");
}

TEST(TrustBundleTest, VerifyRejectsABundleThatDoesNotParse) {
  const auto ca = newCa("a", kNow);
  EXPECT_EQ(verifyChain(leafOf(ca, kNow), "nonsense", kNow),
            "trust bundle: no PEM certificate found");
}

}  // namespace
}  // namespace pki
