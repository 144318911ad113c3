// Consistent hashing: even spread, weights, determinism, and the property the ring exists for —
// when an endpoint leaves or joins, only the keys of that endpoint move.
#include "dataplane/upstream/ring_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

namespace meshgate::dp {
namespace {

constexpr int kKeys = 100000;

std::vector<RingEndpoint> endpoints(int count, uint32_t weight = 1) {
  std::vector<RingEndpoint> result;
  for (int i = 1; i <= count; i++)
    result.push_back({"10.0.0." + std::to_string(i) + ":8080", weight});
  return result;
}

// The endpoint key each of kKeys request keys ("session-<n>") goes to.
std::vector<std::string> route(const std::vector<RingEndpoint>& list) {
  const RingHash ring(list);
  std::vector<std::string> owners;
  owners.reserve(kKeys);
  for (int n = 0; n < kKeys; n++)
    owners.push_back(list[*ring.pick(RingHash::hashKey("session-" + std::to_string(n)))].key);
  return owners;
}

std::vector<int> shares(const RingHash& ring, size_t endpointCount) {
  std::vector<int> counts(endpointCount, 0);
  std::mt19937_64 rng(2024);
  for (int n = 0; n < kKeys; n++)
    counts[*ring.pick(rng())]++;
  return counts;
}

TEST(RingHashTest, HashKeyIsStable) {
  // Pinned values (checked against an independent FNV-1a + fmix64): a change here re-routes
  // every hashed session of every deployed proxy.
  EXPECT_EQ(RingHash::hashKey(""), 17280346270528514342u);
  EXPECT_EQ(RingHash::hashKey("10.0.0.1"), 14445829539779861640u);
  EXPECT_NE(RingHash::hashKey("a"), RingHash::hashKey("b"));
}

// An endpoint's share of the ring is off from fair by about 1/sqrt(its points) (one standard
// deviation): 5% at 342 points, 8% at the default 160 points per weight, 3% at 1000. The bands
// are 2–3 of those: wide enough to survive a change of the hash, narrow enough to catch points
// that cluster or ignore the weights.
TEST(RingHashTest, ThreeEqualEndpointsShareEvenly) {
  const RingHash ring(endpoints(3));
  EXPECT_EQ(ring.size(), 3u * 342);  // raised to reach the minimum ring size, 1024
  for (const int count : shares(ring, 3))
    EXPECT_NEAR(count, kKeys / 3, kKeys / 3 * 0.10) << count;
}

TEST(RingHashTest, TenEqualEndpointsShareEvenlyWithinTheRingsResolution) {
  const RingHash ring(endpoints(10));
  EXPECT_EQ(ring.size(), 1600u);
  for (const int count : shares(ring, 10))
    EXPECT_NEAR(count, kKeys / 10, kKeys / 10 * 0.25) << count;
}

TEST(RingHashTest, MorePointsShareMoreEvenly) {
  RingHashConfig config;
  config.pointsPerWeight = 1000;  // 1/sqrt(1000): about 3%
  const RingHash ring(endpoints(10), config);
  for (const int count : shares(ring, 10))
    EXPECT_NEAR(count, kKeys / 10, kKeys / 10 * 0.10) << count;
}

TEST(RingHashTest, WeightsAreRespected) {
  const RingHash ring({{"10.0.0.1:8080", 2}, {"10.0.0.2:8080", 1}});
  EXPECT_EQ(ring.size(), 3u * 342);
  const auto counts = shares(ring, 2);
  EXPECT_NEAR(counts[0], 2 * kKeys / 3, kKeys / 3 * 0.10) << counts[0];
  EXPECT_NEAR(counts[1], kKeys / 3, kKeys / 3 * 0.10) << counts[1];
}

TEST(RingHashTest, RemovingAnEndpointMovesOnlyItsKeys) {
  auto ten = endpoints(10);
  const auto before = route(ten);
  const std::string removed = ten[3].key;
  ten.erase(ten.begin() + 3);
  const auto after = route(ten);
  int moved = 0;
  for (int n = 0; n < kKeys; n++) {
    if (before[n] == removed) {
      moved++;
    } else {
      EXPECT_EQ(after[n], before[n]) << "key " << n << " moved without need";
    }
  }
  // The removed endpoint's share: a tenth, within the ring's resolution (see above).
  EXPECT_NEAR(moved, kKeys / 10, kKeys / 10 * 0.25) << moved;
}

TEST(RingHashTest, AddingAnEndpointMovesOnlyKeysToIt) {
  auto ten = endpoints(10);
  const auto before = route(ten);
  const RingEndpoint added{"10.0.0.11:8080", 1};
  ten.insert(ten.begin() + 5, added);  // the order of the list does not matter
  const auto after = route(ten);
  int moved = 0;
  for (int n = 0; n < kKeys; n++) {
    if (after[n] != before[n]) {
      moved++;
      EXPECT_EQ(after[n], added.key) << "key " << n << " moved elsewhere";
    }
  }
  EXPECT_NEAR(moved, kKeys / 11, kKeys / 11 * 0.25) << moved;
}

TEST(RingHashTest, SameEndpointsSamePicks) {
  auto list = endpoints(7);
  const auto first = route(list);
  EXPECT_EQ(route(list), first);
  std::reverse(list.begin(), list.end());  // indices change, owners do not
  EXPECT_EQ(route(list), first);
}

TEST(RingHashTest, WrapsAroundPastTheLastPoint) {
  const RingHash ring(endpoints(3));
  EXPECT_EQ(ring.pick(UINT64_MAX), ring.pick(0));
}

TEST(RingHashTest, ZeroWeightEndpointsGetNoPoints) {
  const RingHash ring({{"a", 0}, {"b", 1}, {"c", 0}});
  std::mt19937_64 rng(5);
  for (int n = 0; n < 1000; n++)
    EXPECT_EQ(ring.pick(rng()), 1u);
}

TEST(RingHashTest, EmptyRingPicksNothing) {
  EXPECT_FALSE(RingHash({}).pick(42).has_value());
  EXPECT_FALSE(RingHash({{"a", 0}}).pick(42).has_value());
}

TEST(RingHashTest, RingSizeStaysWithinBounds) {
  RingHashConfig config;
  config.maxRingSize = 10000;
  const RingHash ring(endpoints(100, 7), config);  // 700 units: 160 each would be 112000
  EXPECT_EQ(ring.pointsPerWeight(), 14u);
  EXPECT_LE(ring.size(), 10000u);
}

}  // namespace
}  // namespace meshgate::dp
