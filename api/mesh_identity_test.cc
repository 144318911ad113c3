// SPIFFE ID parsing and the authorization rule shared by operator and proxy.
#include "api/mesh_identity.h"

#include <gtest/gtest.h>

namespace meshgate::api {
namespace {

const WorkloadIdentity kWeb{
    .trustDomain = "cluster.local", .namespace_ = "shop", .serviceAccount = "web"};

TEST(SpiffeId, RoundTrips) {
  EXPECT_EQ(spiffeId(kWeb), "spiffe://cluster.local/ns/shop/sa/web");
  EXPECT_EQ(parseSpiffeId("spiffe://cluster.local/ns/shop/sa/web"), kWeb);
}

TEST(SpiffeId, RefusesOtherShapes) {
  for (const char* uri :
       {"", "spiffe://", "https://cluster.local/ns/shop/sa/web", "spiffe:///ns/shop/sa/web",
        "spiffe://cluster.local/ns//sa/web", "spiffe://cluster.local/ns/shop/sa/",
        "spiffe://cluster.local/ns/shop/sa/web/extra", "spiffe://cluster.local/sa/web",
        "spiffe://cluster.local/ns/shop", "spiffe://cluster.local/ns/a/b/sa/web"})
    EXPECT_FALSE(parseSpiffeId(uri)) << uri;
}

TEST(AuthorizationAdmits, AbsentAdmitsTheTrustDomainOnly) {
  EXPECT_TRUE(authorizationAdmits(std::nullopt, "shop", "cluster.local", kWeb));
  WorkloadIdentity foreign = kWeb;
  foreign.trustDomain = "other.example";
  EXPECT_FALSE(authorizationAdmits(std::nullopt, "shop", "cluster.local", foreign));
}

TEST(AuthorizationAdmits, EmptyAdmitsNobody) {
  EXPECT_FALSE(
      authorizationAdmits(std::vector<AuthorizationRule>{}, "shop", "cluster.local", kWeb));
}

TEST(AuthorizationAdmits, ServiceAccountAloneIsInTheServicesNamespace) {
  const std::vector<AuthorizationRule> allow{{.serviceAccount = "web"}};
  EXPECT_TRUE(authorizationAdmits(allow, "shop", "cluster.local", kWeb));
  EXPECT_FALSE(authorizationAdmits(allow, "billing", "cluster.local", kWeb));
}

TEST(AuthorizationAdmits, NamespaceAloneAdmitsEveryAccountThere) {
  const std::vector<AuthorizationRule> allow{{.namespace_ = "shop"}};
  EXPECT_TRUE(authorizationAdmits(allow, "billing", "cluster.local", kWeb));
  WorkloadIdentity other = kWeb;
  other.namespace_ = "dev";
  EXPECT_FALSE(authorizationAdmits(allow, "billing", "cluster.local", other));
}

TEST(AuthorizationAdmits, BothMustMatch) {
  const std::vector<AuthorizationRule> allow{{.namespace_ = "shop", .serviceAccount = "api"},
                                             {.namespace_ = "dev", .serviceAccount = "web"}};
  EXPECT_FALSE(authorizationAdmits(allow, "shop", "cluster.local", kWeb));
  WorkloadIdentity api = kWeb;
  api.serviceAccount = "api";
  EXPECT_TRUE(authorizationAdmits(allow, "shop", "cluster.local", api));
}

}  // namespace
}  // namespace meshgate::api
