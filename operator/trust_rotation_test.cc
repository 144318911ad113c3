// rootsToTrust and TrustRotationReconciler: an earlier root stays in the bundle as long as a live
// leaf needs it and for the grace period after that — counted from the retirement time recorded
// on the bundle ConfigMap, so a restarted operator (or the bootstrap of a new leader) keeps it —
// and the reconcile comes back by itself when that grace ends.
#include "operator/trust_rotation.h"

#include <gtest/gtest.h>

#include "base/base64.h"
#include "operator/cluster_bootstrap.h"
#include "operator/owner_reference.h"
#include "operator/testing/reconciler_fixture.h"
#include "pki/certificate_authority.h"
#include "pki/private_key.h"
#include "pki/trust_bundle.h"

namespace meshgate::op {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

pki::Certificate issueLeaf(const pki::CertificateAuthority& ca,
                           std::chrono::system_clock::time_point now) {
  auto key = pki::PrivateKey::generateEcdsaP256();
  auto leaf = ca.issue(pki::CertificateTemplate::forWorkload("spiffe://cluster.local/ns/a/sa/b",
                                                             std::chrono::hours(24)),
                       *key, now);
  return *leaf;
}

class RootsToTrustTest : public ::testing::Test {
 protected:
  pki::Certificate leafOf(const pki::CertificateAuthority& ca) { return issueLeaf(ca, now_); }

  // Retired roots leave at once, as before there was a grace.
  RootRetirement noGrace() const { return {.retiredSince = {}, .now = now_, .grace = 0ms}; }

  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
  pki::CertificateAuthority oldCa_ = *pki::CertificateAuthority::generate("old", now_ - 24h);
  pki::CertificateAuthority newCa_ = *pki::CertificateAuthority::generate("new", now_);
};

TEST_F(RootsToTrustTest, KeepsTheOldRootWhileALeafIsStillSignedByIt) {
  auto trusted = rootsToTrust(newCa_.certificate(), {oldCa_.certificate()},
                              {leafOf(newCa_), leafOf(oldCa_)}, noGrace());
  ASSERT_EQ(trusted.roots.size(), 2u);
  EXPECT_EQ(trusted.roots[0], newCa_.certificate());
  EXPECT_EQ(trusted.roots[1], oldCa_.certificate());
  EXPECT_TRUE(trusted.retiredSince.empty());
  EXPECT_FALSE(trusted.nextDropIn);
}

TEST_F(RootsToTrustTest, DropsTheOldRootOnceEveryLeafIsReissued) {
  auto trusted = rootsToTrust(newCa_.certificate(), {oldCa_.certificate(), newCa_.certificate()},
                              {leafOf(newCa_), leafOf(newCa_)}, noGrace());
  ASSERT_EQ(trusted.roots.size(), 1u);
  EXPECT_EQ(trusted.roots[0], newCa_.certificate());
  EXPECT_TRUE(trusted.retiredSince.empty());
  EXPECT_FALSE(trusted.nextDropIn);
}

TEST_F(RootsToTrustTest, WithoutARotationTheSigningRootIsTheBundle) {
  auto trusted = rootsToTrust(oldCa_.certificate(), {oldCa_.certificate()}, {}, noGrace());
  ASSERT_EQ(trusted.roots.size(), 1u);
  EXPECT_EQ(trusted.roots[0], oldCa_.certificate());
}

TEST_F(RootsToTrustTest, ANewlyRetiredRootIsKeptForTheWholeGraceFromNow) {
  auto trusted = rootsToTrust(newCa_.certificate(), {oldCa_.certificate()}, {leafOf(newCa_)},
                              {.retiredSince = {}, .now = now_, .grace = 5min});
  ASSERT_EQ(trusted.roots.size(), 2u);
  EXPECT_EQ(trusted.roots[1], oldCa_.certificate());
  EXPECT_EQ(trusted.retiredSince, (RetiredRoots{{oldCa_.certificate().sha256Fingerprint(), now_}}));
  EXPECT_EQ(trusted.nextDropIn, std::chrono::system_clock::duration(5min));
}

TEST_F(RootsToTrustTest, ARetirementRecordedInTheFutureCountsFromNow) {
  const RetiredRoots recorded = {{oldCa_.certificate().sha256Fingerprint(), now_ + 1h}};
  auto trusted = rootsToTrust(newCa_.certificate(), {oldCa_.certificate()}, {leafOf(newCa_)},
                              {.retiredSince = recorded, .now = now_, .grace = 5min});
  ASSERT_EQ(trusted.roots.size(), 2u);
  EXPECT_EQ(trusted.retiredSince.at(oldCa_.certificate().sha256Fingerprint()), now_);
  EXPECT_EQ(trusted.nextDropIn, std::chrono::system_clock::duration(5min));
}

// The reconcile against informers fed by hand: the bootstrap ran with the old CA, then the CA
// Secret was replaced by a new root; leaf "a" is still signed by the old root, "b" by the new.
class TrustRotationReconcilerTest : public ReconcilerFixture {
 protected:
  static constexpr const char* kSystem = "meshgate-system";
  static constexpr auto kGrace = 5min;

  TrustRotationReconcilerTest() {
    ca_.set({oldCa_, *pki::buildTrustBundle({oldCa_.certificate()}, clock_.wallNow())});
    feed(caSecret_, {caSecret()});
    feed(trustBundle_, {trustBundleConfigMap(kSystem, ca_.current()->trustBundlePem)});
    feed(managedSecrets_, {leafSecret("a", oldCa_), leafSecret("b", newCa_)});
  }

  json caSecret() const {
    return {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", kCaSecretName}, {"namespace", kSystem}}},
            {"type", "kubernetes.io/tls"},
            {"data",
             {{"tls.crt", base64Encode(newCa_.certificatePem())},
              {"tls.key", base64Encode(*newCa_.keyPem())}}}};
  }

  json leafSecret(const std::string& name, const pki::CertificateAuthority& signer) const {
    return {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata",
             {{"name", "meshgate-identity-" + name},
              {"namespace", "shop"},
              {"labels", {{kManagedByLabel, kManagedByValue}}}}},
            {"data", {{"tls.crt", base64Encode(issueLeaf(signer, clock_.wallNow()).toPem())}}}};
  }

  // The last leaf of the old root is re-issued by the new one.
  void reissueTheLastOldLeaf() {
    feed(managedSecrets_, {leafSecret("a", newCa_), leafSecret("b", newCa_)});
  }

  // One reconcile by `reconciler`; the bundle cache then catches up with what it applied, and
  // writes_ counts the requests it wrote.
  kube::ReconcileResult reconcile(TrustRotationReconciler& reconciler) {
    const auto from = sent().size();
    auto result = reconciler.reconcile(reconciler.request());
    writes_ = writesIn(sent(from));
    upsert(trustBundle_, appliedTo(sent(from), "/configmaps/meshgate-ca-bundle"));
    return result;
  }
  kube::ReconcileResult reconcile() { return reconcile(reconciler_); }

  json publishedBundle() const {
    return *trustBundle_.store().get("meshgate-system/meshgate-ca-bundle");
  }

  // The fingerprints of the roots the published bundle holds.
  std::vector<std::string> publishedRoots() const {
    const auto roots =
        pki::parseCertificates(publishedBundle()["data"]["ca.crt"].get<std::string>());
    if (!roots) return {"unparsable: " + roots.error().message};
    std::vector<std::string> fingerprints;
    for (const auto& root : *roots)
      fingerprints.push_back(root.sha256Fingerprint());
    return fingerprints;
  }

  // The retired-roots annotation of the published bundle, parsed; null when there is none.
  json publishedRetiredRoots() const {
    const json annotations = publishedBundle()["metadata"].value("annotations", json::object());
    if (!annotations.contains(kRetiredRootsAnnotation)) return nullptr;
    return json::parse(annotations[kRetiredRootsAnnotation].get<std::string>());
  }

  static void expectRequeueAfter(const kube::ReconcileResult& result,
                                 std::chrono::milliseconds after) {
    EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::RequeueAfter) << result.error();
    EXPECT_EQ(result.after(), after);
  }

  std::string oldRoot() const { return oldCa_.certificate().sha256Fingerprint(); }
  std::string newRoot() const { return newCa_.certificate().sha256Fingerprint(); }

  // A day older than the new root, so that the bundle (newest first) lists it second.
  pki::CertificateAuthority oldCa_ =
      *pki::CertificateAuthority::generate("old", clock_.wallNow() - 24h);
  pki::CertificateAuthority newCa_ = *pki::CertificateAuthority::generate("new", clock_.wallNow());
  kube::Informer caSecret_{*client_, kube::resources::kSecrets, kSystem, {}, clock_};
  kube::Informer trustBundle_{*client_, kube::resources::kConfigMaps, kSystem, {}, clock_};
  kube::Informer managedSecrets_{*client_, kube::resources::kSecrets, "", {}, clock_};
  MeshCa ca_;
  int trustChanges_ = 0;
  size_t writes_ = 0;
  TrustRotationReconciler reconciler_{
      *client_, {caSecret_, trustBundle_, managedSecrets_}, ca_, clock_, kSystem, kGrace, [this] {
        trustChanges_++;
      }};
};

TEST_F(TrustRotationReconcilerTest, TheOldRootIsNotRetiredWhileALeafIsSignedByIt) {
  const auto result = reconcile();
  EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::Done) << result.error();
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot(), oldRoot()}));
  EXPECT_EQ(publishedRetiredRoots(), nullptr);
}

TEST_F(TrustRotationReconcilerTest, ARetiredRootStaysInTheBundleDuringTheGrace) {
  reconcile();
  reissueTheLastOldLeaf();
  expectRequeueAfter(reconcile(), kGrace);
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot(), oldRoot()}));
  EXPECT_EQ(publishedRetiredRoots(), (json{{oldRoot(), "2024-01-01T00:00:00.000000Z"}}));

  clock_.advance(kGrace - 1s);
  expectRequeueAfter(reconcile(), 1s);
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot(), oldRoot()}));
  EXPECT_EQ(writes_, 0u);
}

TEST_F(TrustRotationReconcilerTest, ARetiredRootIsDroppedWhenTheGraceEnds) {
  reconcile();
  reissueTheLastOldLeaf();
  reconcile();
  const int changesBefore = trustChanges_;

  clock_.advance(kGrace);
  const auto result = reconcile();
  EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::Done) << result.error();
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot()}));
  EXPECT_EQ(publishedRetiredRoots(), nullptr);
  EXPECT_EQ(*pki::parseCertificates(ca_.current()->trustBundlePem),
            (std::vector<pki::Certificate>{newCa_.certificate()}));
  EXPECT_EQ(trustChanges_, changesBefore + 1);
}

TEST_F(TrustRotationReconcilerTest, RequeuesForWhatIsLeftOfTheGrace) {
  reconcile();
  reissueTheLastOldLeaf();
  reconcile();
  clock_.advance(2min);
  expectRequeueAfter(reconcile(), kGrace - 2min);
  EXPECT_EQ(writes_, 0u);
  EXPECT_EQ(publishedRetiredRoots(), (json{{oldRoot(), "2024-01-01T00:00:00.000000Z"}}));
}

TEST_F(TrustRotationReconcilerTest, ARestartedOperatorReadsTheRetirementBackFromTheBundle) {
  reconcile();
  clock_.advance(250ms);
  reissueTheLastOldLeaf();
  reconcile();
  EXPECT_EQ(publishedRetiredRoots(), (json{{oldRoot(), "2024-01-01T00:00:00.250000Z"}}));
  clock_.advance(4min);

  // A new process: its bootstrap loaded the new CA and the published bundle; nothing else of the
  // first reconciler survives.
  MeshCa restartedCa;
  restartedCa.set({newCa_, publishedBundle()["data"]["ca.crt"].get<std::string>()});
  TrustRotationReconciler restarted{
      *client_, {caSecret_, trustBundle_, managedSecrets_}, restartedCa, clock_, kSystem, kGrace,
      [] {}};
  expectRequeueAfter(reconcile(restarted), 1min);
  EXPECT_EQ(writes_, 0u);
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot(), oldRoot()}));

  clock_.advance(1min);
  EXPECT_EQ(reconcile(restarted).kind(), kube::ReconcileResult::Kind::Done);
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot()}));
}

TEST_F(TrustRotationReconcilerTest, ZeroGraceDropsTheRetiredRootAtOnce) {
  TrustRotationReconciler immediate{
      *client_, {caSecret_, trustBundle_, managedSecrets_}, ca_, clock_, kSystem, 0ms, [] {}};
  reconcile(immediate);
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot(), oldRoot()}));
  reissueTheLastOldLeaf();
  const auto result = reconcile(immediate);
  EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::Done) << result.error();
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot()}));
  EXPECT_EQ(publishedRetiredRoots(), nullptr);
}

TEST_F(TrustRotationReconcilerTest, ARootThatSignsALeafAgainIsNoLongerRetired) {
  reconcile();
  reissueTheLastOldLeaf();
  reconcile();
  ASSERT_NE(publishedRetiredRoots(), nullptr);

  clock_.advance(1min);
  feed(managedSecrets_,
       {leafSecret("a", newCa_), leafSecret("b", newCa_), leafSecret("c", oldCa_)});
  const auto result = reconcile();
  EXPECT_EQ(result.kind(), kube::ReconcileResult::Kind::Done) << result.error();
  EXPECT_EQ(publishedRetiredRoots(), nullptr);
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot(), oldRoot()}));

  // Well past the first grace, still signing: still trusted.
  clock_.advance(2 * kGrace);
  reconcile();
  EXPECT_EQ(publishedRoots(), (std::vector<std::string>{newRoot(), oldRoot()}));
}

TEST_F(TrustRotationReconcilerTest, TheBootstrapOfANewLeaderKeepsTheRetirementTimes) {
  reconcile();
  reissueTheLastOldLeaf();
  reconcile();
  const json retired = publishedRetiredRoots();
  ASSERT_NE(retired, nullptr);

  // The apiserver holds the CA Secret and the bundle the caches hold.
  const json secret = caSecret();
  const json bundle = publishedBundle();
  transport_->setFallback([secret, bundle, accept = answering("")](const kube::HttpRequest& request)
                              -> kube::Result<kube::HttpResponse> {
    if (request.method == "GET" && request.target.ends_with("/secrets/meshgate-ca"))
      return kube::HttpResponse{.status = 200, .headers = {}, .body = secret.dump()};
    if (request.method == "GET" && request.target.ends_with("/configmaps/meshgate-ca-bundle"))
      return kube::HttpResponse{.status = 200, .headers = {}, .body = bundle.dump()};
    return accept(request);
  });
  MeshCa leaderCa;
  ClusterBootstrap bootstrap(*client_, kSystem, leaderCa, clock_);
  const auto from = sent().size();
  ASSERT_EQ(bootstrap.run(), "");
  EXPECT_TRUE(appliedTo(sent(from), "/configmaps/meshgate-ca-bundle").empty());
  EXPECT_EQ(leaderCa.current()->trustBundlePem, bundle["data"]["ca.crt"].get<std::string>());
}

}  // namespace
}  // namespace meshgate::op
