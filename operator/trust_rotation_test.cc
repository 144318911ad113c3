// rootsToTrust: an earlier root stays in the bundle exactly as long as a live leaf needs it.
#include "operator/trust_rotation.h"

#include <gtest/gtest.h>

#include "pki/certificate_authority.h"
#include "pki/private_key.h"

namespace meshgate::op {
namespace {

class RootsToTrustTest : public ::testing::Test {
 protected:
  pki::Certificate leafOf(const pki::CertificateAuthority& ca) {
    auto key = pki::PrivateKey::generateEcdsaP256();
    auto leaf = ca.issue(pki::CertificateTemplate::forWorkload("spiffe://cluster.local/ns/a/sa/b",
                                                               std::chrono::hours(24)),
                         *key, now_);
    return *leaf;
  }

  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
  pki::CertificateAuthority oldCa_ = *pki::CertificateAuthority::generate("old", now_);
  pki::CertificateAuthority newCa_ = *pki::CertificateAuthority::generate("new", now_);
};

TEST_F(RootsToTrustTest, KeepsTheOldRootWhileALeafIsStillSignedByIt) {
  auto roots =
      rootsToTrust(newCa_.certificate(), {oldCa_.certificate()}, {leafOf(newCa_), leafOf(oldCa_)});
  ASSERT_EQ(roots.size(), 2u);
  EXPECT_EQ(roots[0], newCa_.certificate());
  EXPECT_EQ(roots[1], oldCa_.certificate());
}

TEST_F(RootsToTrustTest, DropsTheOldRootOnceEveryLeafIsReissued) {
  auto roots = rootsToTrust(newCa_.certificate(), {oldCa_.certificate(), newCa_.certificate()},
                            {leafOf(newCa_), leafOf(newCa_)});
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots[0], newCa_.certificate());
}

TEST_F(RootsToTrustTest, WithoutARotationTheSigningRootIsTheBundle) {
  auto roots = rootsToTrust(oldCa_.certificate(), {oldCa_.certificate()}, {});
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots[0], oldCa_.certificate());
}

}  // namespace
}  // namespace meshgate::op
