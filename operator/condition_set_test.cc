// Condition bookkeeping: lastTransitionTime moves only when the status flips.
#include "operator/condition_set.h"

#include <gtest/gtest.h>

namespace meshgate::op {
namespace {

api::Condition ready(std::string status, std::string reason) {
  return {.type = "Ready",
          .status = std::move(status),
          .reason = std::move(reason),
          .message = "",
          .observedGeneration = 1,
          .lastTransitionTime = ""};
}

TEST(ConditionSetTest, TransitionTimeChangesOnlyWhenStatusFlips) {
  std::vector<api::Condition> conditions;
  setCondition(conditions, ready("False", "NoReadyEndpoints"), "t1");
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].lastTransitionTime, "t1");

  setCondition(conditions, ready("False", "NotProgrammed"), "t2");
  EXPECT_EQ(conditions[0].lastTransitionTime, "t1");
  EXPECT_EQ(conditions[0].reason, "NotProgrammed");

  setCondition(conditions, ready("True", "Ready"), "t3");
  EXPECT_EQ(conditions[0].lastTransitionTime, "t3");
  EXPECT_TRUE(isConditionTrue(conditions, "Ready"));
  EXPECT_FALSE(isConditionTrue(conditions, "Accepted"));
}

}  // namespace
}  // namespace meshgate::op
