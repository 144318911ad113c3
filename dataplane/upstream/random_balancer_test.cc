// Weighted random: shares follow the weights over many seeded picks, weight 0 is never drawn, and
// a seed replays the same sequence.
#include "dataplane/upstream/random_balancer.h"

#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

std::vector<int> countPicks(RandomBalancer& balancer, size_t endpoints, int picks) {
  std::vector<int> counts(endpoints, 0);
  for (int i = 0; i < picks; i++)
    counts[*balancer.pick()]++;
  return counts;
}

TEST(RandomBalancerTest, SharesFollowTheWeights) {
  RandomBalancer balancer({3, 0, 2, 5}, 42);
  const auto counts = countPicks(balancer, 4, 100000);
  // Binomial standard deviation is at most ~160 here; 1000 is over 6 of them.
  EXPECT_NEAR(counts[0], 30000, 1000);
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[2], 20000, 1000);
  EXPECT_NEAR(counts[3], 50000, 1000);
}

TEST(RandomBalancerTest, EqualWeightsSpreadEvenly) {
  RandomBalancer balancer(std::vector<uint32_t>(5, 7), 1);
  for (const int count : countPicks(balancer, 5, 50000))
    EXPECT_NEAR(count, 10000, 500);
}

TEST(RandomBalancerTest, ZeroWeightsAtTheEdgesAreNeverPicked) {
  RandomBalancer balancer({0, 1, 0, 1, 0}, 9);
  const auto counts = countPicks(balancer, 5, 10000);
  EXPECT_EQ(counts[0] + counts[2] + counts[4], 0);
  EXPECT_NEAR(counts[1], 5000, 300);
}

TEST(RandomBalancerTest, SingleEndpoint) {
  RandomBalancer balancer({4}, 3);
  for (int i = 0; i < 10; i++)
    EXPECT_EQ(balancer.pick(), 0u);
}

TEST(RandomBalancerTest, NoWeightNoPick) {
  EXPECT_FALSE(RandomBalancer({0, 0}, 1).pick().has_value());
  EXPECT_FALSE(RandomBalancer({}, 1).pick().has_value());
}

TEST(RandomBalancerTest, SameSeedSameSequence) {
  RandomBalancer a({1, 2, 3}, 77), b({1, 2, 3}, 77);
  for (int i = 0; i < 100; i++)
    EXPECT_EQ(a.pick(), b.pick());
}

}  // namespace
}  // namespace meshgate::dp
