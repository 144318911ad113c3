// Load balancers: the exact smooth round-robin order, weighted shares over many picks, and the
// power of two choices never choosing the most loaded of three endpoints.
#include <gtest/gtest.h>

#include "dataplane/upstream/least_request.h"
#include "dataplane/upstream/smooth_round_robin.h"

namespace meshgate::dp {
namespace {

TEST(SmoothRoundRobinTest, SpreadsTheHeavyEndpointsTurns) {
  SmoothRoundRobin balancer({5, 1, 1});
  std::string order;
  for (int i = 0; i < 7; i++)
    order += static_cast<char>('a' + *balancer.pick());
  EXPECT_EQ(order, "aabacaa");
}

TEST(SmoothRoundRobinTest, SharesFollowTheWeightsExactlyPerCycle) {
  SmoothRoundRobin balancer({3, 0, 2, 5});
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 1000; i++)
    counts[*balancer.pick()]++;
  EXPECT_EQ(counts, (std::vector<int>{300, 0, 200, 500}));
}

TEST(SmoothRoundRobinTest, NoWeightNoPick) {
  EXPECT_FALSE(SmoothRoundRobin({0, 0}).pick().has_value());
  EXPECT_FALSE(SmoothRoundRobin({}).pick().has_value());
}

TEST(LeastRequestTest, NeverPicksTheMostLoadedOfThree) {
  LeastRequest balancer(42);
  const std::vector<uint32_t> active = {3, 50, 3};
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 30000; i++)
    counts[*balancer.pick(active)]++;
  EXPECT_EQ(counts[1], 0);
  // The two equal endpoints share the rest evenly (each within 5% of half).
  EXPECT_NEAR(counts[0], 15000, 750);
  EXPECT_NEAR(counts[2], 15000, 750);
}

TEST(LeastRequestTest, SpreadsEvenlyWhenAllAreIdle) {
  LeastRequest balancer(7);
  const std::vector<uint32_t> active(4, 0);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 40000; i++)
    counts[*balancer.pick(active)]++;
  for (const int count : counts)
    EXPECT_NEAR(count, 10000, 500);
}

}  // namespace
}  // namespace meshgate::dp
