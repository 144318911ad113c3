// Tests for operator/route_admission_conditions.h: which reason wins and how the messages read.
#include "operator/route_admission_conditions.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/condition.h"

namespace meshgate::op {
namespace {

namespace reason = api::condition_reason;

RouteAdmission admission() {
  RouteAdmission out;
  out.route.metadata.name = "store";
  out.route.metadata.namespace_ = "shop";
  return out;
}

TEST(RouteAdmissionConditionsTest, InvalidJoinsEveryError) {
  const api::ErrorList errors = {api::FieldError::required(api::FieldPath("spec").child("hosts")),
                                 api::FieldError::required(api::FieldPath("spec").child("rules"))};
  const ConditionVerdict accepted =
      acceptedCondition(Expected<RouteAdmission, api::ErrorList>(errors));
  EXPECT_EQ(accepted.status, api::condition_status::kFalse);
  EXPECT_EQ(accepted.reason, reason::kInvalid);
  EXPECT_EQ(accepted.message, api::joinErrors(errors));
}

TEST(RouteAdmissionConditionsTest, NotAllowedOutranksConflictedAndNamesBoth) {
  RouteAdmission route = admission();
  route.deniedHosts = {"a.example.com"};
  route.conflicts = {"host b.example.com PathPrefix / is served by the older ApiRoute shop/old"};
  const ConditionVerdict accepted = acceptedCondition(route);
  EXPECT_EQ(accepted.reason, reason::kNotAllowed);
  EXPECT_EQ(accepted.message,
            "hosts not allowed in namespace shop (meshgate.io/allowed-hosts): a.example.com; also "
            "conflicted: host b.example.com PathPrefix / is served by the older ApiRoute shop/old");
}

TEST(RouteAdmissionConditionsTest, LongListsStopAfterFiveItems) {
  RouteAdmission route = admission();
  for (int i = 1; i <= 7; ++i)
    route.conflicts.push_back("c" + std::to_string(i));
  const ConditionVerdict accepted = acceptedCondition(route);
  EXPECT_EQ(accepted.reason, reason::kConflicted);
  EXPECT_EQ(accepted.message, "c1; c2; c3; c4; c5; and 2 more");
}

TEST(RouteAdmissionConditionsTest, AcceptedWhenNothingIsDeniedOrLost) {
  const ConditionVerdict accepted = acceptedCondition(admission());
  EXPECT_EQ(accepted.status, api::condition_status::kTrue);
  EXPECT_EQ(accepted.reason, reason::kAccepted);
  EXPECT_EQ(accepted.message, "");
}

TEST(RouteAdmissionConditionsTest, AMissingBackendIsTheGraverReasonAndBothAreListed) {
  RouteAdmission route = admission();
  route.missingBackends = {"MeshService shop/x not found"};
  const ConditionVerdict both = resolvedRefsCondition(route, {"Secret shop/jwks not found"});
  EXPECT_EQ(both.reason, reason::kBackendNotFound);
  EXPECT_EQ(both.message, "MeshService shop/x not found; Secret shop/jwks not found");
  const ConditionVerdict secretOnly =
      resolvedRefsCondition(admission(), {"Secret shop/jwks not found"});
  EXPECT_EQ(secretOnly.reason, reason::kSecretNotFound);
  EXPECT_EQ(resolvedRefsCondition(admission(), {}).reason, reason::kResolvedRefs);
}

}  // namespace
}  // namespace meshgate::op
