// Tests for renewAt() and needsReissue(): time is injected, so "later" is just a bigger `now`.
#include "pki/renewal_policy.h"

#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pki {
namespace {

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

class RenewalPolicyTest : public ::testing::Test {
 protected:
  CertificateAuthority ca_ = must(CertificateAuthority::generate("meshgate-ca", kNow));
  PrivateKey key_ = must(PrivateKey::generateEcdsaP256());
  CertificateTemplate workload_ = CertificateTemplate::forWorkload(kSpiffeId, 24h);
  Certificate leaf_ = must(ca_.issue(workload_, key_, kNow));
};

TEST_F(RenewalPolicyTest, RenewsAtTwoThirdsOfTheLifetime) {
  // Lifetime counted from notBefore, which is backdated 5 minutes: 24h5m × 2/3 = 16h3m20s.
  EXPECT_EQ(renewAt(leaf_), kNow - 5min + 16h + 3min + 20s);
}

TEST_F(RenewalPolicyTest, FreshCertificateIsKept) {
  EXPECT_THAT(needsReissue(leaf_, key_, ca_, workload_, kNow), IsEmpty());
}

TEST_F(RenewalPolicyTest, NotDueJustBeforeRenewAtAndDueFromIt) {
  const TimePoint due = renewAt(leaf_);
  EXPECT_THAT(needsReissue(leaf_, key_, ca_, workload_, due - 1s), IsEmpty());
  EXPECT_EQ(needsReissue(leaf_, key_, ca_, workload_, due),
            "renewal time 2030-01-01T15:58:20Z (2/3 of the lifetime) reached");
  EXPECT_THAT(needsReissue(leaf_, key_, ca_, workload_, due + 1h), HasSubstr("renewal time"));
}

TEST_F(RenewalPolicyTest, ExpiredCertificateIsReissued) {
  EXPECT_EQ(needsReissue(leaf_, key_, ca_, workload_, leaf_.notAfter()),
            "certificate expired at 2030-01-02T00:00:00Z");
}

TEST_F(RenewalPolicyTest, CertificateFromTheFutureIsReissued) {
  EXPECT_THAT(needsReissue(leaf_, key_, ca_, workload_, kNow - 1h),
              StartsWith("certificate is not valid until"));
}

TEST_F(RenewalPolicyTest, ChangedSpiffeIdIsReissued) {
  auto wanted = CertificateTemplate::forWorkload("spiffe://cluster.local/ns/shop/sa/payments");
  EXPECT_EQ(needsReissue(leaf_, key_, ca_, wanted, kNow),
            "URI SANs changed: have [spiffe://cluster.local/ns/shop/sa/orders], want "
            "[spiffe://cluster.local/ns/shop/sa/payments]");
}

TEST_F(RenewalPolicyTest, ChangedHostNamesOrAddressesAreReissued) {
  const auto hosts = CertificateTemplate::forHosts({"a.example", "b.example", "10.0.0.1"});
  const Certificate cert = must(ca_.issue(hosts, key_, kNow));
  EXPECT_THAT(needsReissue(cert, key_, ca_, hosts, kNow), IsEmpty());

  auto moreHosts = hosts;
  moreHosts.dnsNames.push_back("c.example");
  EXPECT_EQ(needsReissue(cert, key_, ca_, moreHosts, kNow),
            "DNS names changed: have [a.example, b.example], want [a.example, b.example, "
            "c.example]");

  auto otherIp = hosts;
  otherIp.ipAddresses = {"10.0.0.2"};
  EXPECT_EQ(needsReissue(cert, key_, ca_, otherIp, kNow),
            "IP addresses changed: have [10.0.0.1], want [10.0.0.2]");
}

TEST_F(RenewalPolicyTest, SanOrderCaseAndAddressSpellingDoNotMatter) {
  const auto hosts = CertificateTemplate::forHosts({"a.example", "b.example", "fd00::1"});
  const Certificate cert = must(ca_.issue(hosts, key_, kNow));
  auto same = hosts;
  same.dnsNames = {"B.Example", "a.example", "a.example"};
  same.ipAddresses = {"fd00:0:0::1"};
  EXPECT_THAT(needsReissue(cert, key_, ca_, same, kNow), IsEmpty());
}

TEST_F(RenewalPolicyTest, ChangedCommonNameIsReissued) {
  auto wanted = workload_;
  wanted.commonName = "orders";
  EXPECT_EQ(needsReissue(leaf_, key_, ca_, wanted, kNow),
            "common name changed: have \"\", want \"orders\"");
}

TEST_F(RenewalPolicyTest, KeyThatDoesNotMatchIsReissued) {
  const PrivateKey other = must(PrivateKey::generateEcdsaP256());
  EXPECT_EQ(needsReissue(leaf_, other, ca_, workload_, kNow),
            "private key does not match the certificate");
}

TEST_F(RenewalPolicyTest, CertificateFromAnotherCaIsReissued) {
  const auto other = must(CertificateAuthority::generate("other-ca", kNow));
  const Certificate foreign = must(other.issue(workload_, key_, kNow));
  EXPECT_EQ(needsReissue(foreign, key_, ca_, workload_, kNow),
            "issued by another CA (\"CN=other-ca\", current CA \"CN=meshgate-ca\")");
}

TEST_F(RenewalPolicyTest, RotatedCaWithTheSameNameIsReissued) {
  const auto rotated = must(CertificateAuthority::generate("meshgate-ca", kNow));
  EXPECT_THAT(needsReissue(leaf_, key_, rotated, workload_, kNow),
              StartsWith("CA changed: the current CA key (sha256 " +
                         rotated.certificate().sha256Fingerprint() + ") did not sign"));
}

TEST_F(RenewalPolicyTest, SecretContentIsCheckedToo) {
  const std::string certPem = leaf_.toPem();
  const std::string keyPem = must(key_.toPem());
  EXPECT_THAT(needsReissue(certPem, keyPem, ca_, workload_, kNow), IsEmpty());
  EXPECT_THAT(needsReissue("", keyPem, ca_, workload_, kNow), StartsWith("tls.crt: "));
  EXPECT_THAT(needsReissue(certPem, "junk", ca_, workload_, kNow), StartsWith("tls.key: "));
  // A chain after the leaf is allowed.
  EXPECT_THAT(needsReissue(certPem + ca_.certificatePem(), keyPem, ca_, workload_, kNow),
              IsEmpty());
}

}  // namespace
}  // namespace pki
