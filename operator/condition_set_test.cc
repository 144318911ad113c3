// Condition bookkeeping: lastTransitionTime moves only when the status flips.
#include "operator/condition_set.h"

#include <gtest/gtest.h>

namespace meshgate::op {
namespace {

namespace status = api::condition_status;
namespace type = api::condition_type;
namespace reason = api::condition_reason;

api::Condition ready(std::string_view conditionStatus, std::string_view why) {
  return {.type = std::string(type::kReady),
          .status = std::string(conditionStatus),
          .reason = std::string(why),
          .message = "",
          .observedGeneration = 1,
          .lastTransitionTime = ""};
}

TEST(ConditionSetTest, TransitionTimeChangesOnlyWhenStatusFlips) {
  std::vector<api::Condition> conditions;
  setCondition(conditions, ready(status::kFalse, reason::kNoReadyEndpoints), "t1");
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].lastTransitionTime, "t1");

  setCondition(conditions, ready(status::kFalse, reason::kNotProgrammed), "t2");
  EXPECT_EQ(conditions[0].lastTransitionTime, "t1");
  EXPECT_EQ(conditions[0].reason, reason::kNotProgrammed);

  setCondition(conditions, ready(status::kTrue, reason::kReady), "t3");
  EXPECT_EQ(conditions[0].lastTransitionTime, "t3");
  EXPECT_TRUE(isConditionTrue(conditions, type::kReady));
  EXPECT_FALSE(isConditionTrue(conditions, type::kAccepted));
}

}  // namespace
}  // namespace meshgate::op
