// Active health check thresholds: starting healthy, consecutive runs only, and one transition
// reported per change.
#include "dataplane/upstream/health_state.h"

#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

using Transition = HealthState::Transition;

TEST(HealthStateTest, StartsHealthy) {
  EXPECT_TRUE(HealthState(2, 3).healthy());
}

TEST(HealthStateTest, UnhealthyAfterThresholdFailuresInARow) {
  HealthState state(2, 3);
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_TRUE(state.healthy());
  EXPECT_EQ(state.record(false), Transition::BecameUnhealthy);
  EXPECT_FALSE(state.healthy());
  EXPECT_EQ(state.record(false), Transition::None);  // reported once
  EXPECT_FALSE(state.healthy());
}

TEST(HealthStateTest, ASuccessBreaksTheRunOfFailures) {
  HealthState state(2, 3);
  state.record(false);
  state.record(false);
  EXPECT_EQ(state.record(true), Transition::None);
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_EQ(state.record(false), Transition::None);
  EXPECT_TRUE(state.healthy());
  EXPECT_EQ(state.record(false), Transition::BecameUnhealthy);
}

TEST(HealthStateTest, HealthyAgainAfterThresholdSuccessesInARow) {
  HealthState state(2, 1);
  EXPECT_EQ(state.record(false), Transition::BecameUnhealthy);
  EXPECT_EQ(state.record(true), Transition::None);
  EXPECT_EQ(state.record(false), Transition::None);  // breaks the run of successes
  EXPECT_EQ(state.record(true), Transition::None);
  EXPECT_FALSE(state.healthy());
  EXPECT_EQ(state.record(true), Transition::BecameHealthy);
  EXPECT_TRUE(state.healthy());
  EXPECT_EQ(state.record(true), Transition::None);
}

TEST(HealthStateTest, ZeroThresholdsCountAsOne) {
  HealthState state(0, 0);
  EXPECT_EQ(state.record(false), Transition::BecameUnhealthy);
  EXPECT_EQ(state.record(true), Transition::BecameHealthy);
}

}  // namespace
}  // namespace meshgate::dp
