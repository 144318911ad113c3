// Apply-if-changed decisions: subset semantics and the applied-state hash.
#include "operator/desired_state.h"

#include <gtest/gtest.h>

namespace meshgate::op {
namespace {

using nlohmann::json;

TEST(DesiredStateTest, LiveWithExtraFieldsStillHoldsTheDesiredState) {
  json desired = {{"spec", {{"ports", {{{"port", 80}, {"name", "http"}}}}}}};
  json live = {{"spec",
                {{"clusterIP", "10.0.0.7"},
                 {"ports", {{{"port", 80}, {"name", "http"}, {"protocol", "TCP"}}}}}},
               {"status", json::object()}};
  EXPECT_TRUE(isSubsetOf(desired, live));
}

TEST(DesiredStateTest, ChangedOrMissingValuesAndResizedListsAreNotSubsets) {
  json desired = {{"spec", {{"ports", {{{"port", 80}}}}}}};
  EXPECT_FALSE(isSubsetOf(desired, {{"spec", {{"ports", {{{"port", 81}}}}}}}));
  EXPECT_FALSE(isSubsetOf(desired, {{"spec", json::object()}}));
  EXPECT_FALSE(isSubsetOf(desired, {{"spec", {{"ports", {{{"port", 80}}, {{"port", 81}}}}}}}));
}

TEST(DesiredStateTest, EmptyDesiredValuesMatchOmittedFields) {
  EXPECT_TRUE(isSubsetOf({{"a", ""}, {"b", json::array()}, {"c", json::object()}}, json::object()));
}

TEST(DesiredStateTest, NeedsApplyWhenAbsentDriftedOrIntentChanged) {
  json desired = {{"metadata", {{"name", "x"}}}, {"data", {{"k", "v"}}}};
  stampAppliedHash(desired);
  EXPECT_TRUE(needsApply(desired, nullptr));
  json live = desired;
  live["metadata"]["resourceVersion"] = "5";
  EXPECT_FALSE(needsApply(desired, &live));

  json drifted = live;
  drifted["data"]["k"] = "edited";
  EXPECT_TRUE(needsApply(desired, &drifted));

  // A field we stopped setting is still live: only the hash tells.
  json smaller = {{"metadata", {{"name", "x"}}}, {"data", json::object()}};
  stampAppliedHash(smaller);
  EXPECT_TRUE(needsApply(smaller, &live));
}

TEST(DesiredStateTest, HashIsStableAndIgnoresAPreviousStamp) {
  json a = {{"metadata", {{"name", "x"}}}, {"data", {{"k", "v"}}}};
  json b = a;
  stampAppliedHash(a);
  stampAppliedHash(b);
  stampAppliedHash(b);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace meshgate::op
