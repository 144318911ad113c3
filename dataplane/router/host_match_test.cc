// Host header normalization, wildcard matching and specificity.
#include "dataplane/router/host_match.h"

#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

TEST(HostMatchTest, NormalizesCaseAndDropsThePort) {
  EXPECT_EQ(normalizeHost("Shop.Example.COM:8443"), "shop.example.com");
  EXPECT_EQ(normalizeHost("shop.example.com"), "shop.example.com");
  EXPECT_EQ(normalizeHost("[::1]:8080"), "[::1]");
}

TEST(HostMatchTest, AWildcardCoversOneOrMoreLabelsButNotTheApex) {
  EXPECT_TRUE(hostMatches("*.example.com", "a.example.com"));
  EXPECT_TRUE(hostMatches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(hostMatches("*.example.com", "example.com"));
  EXPECT_FALSE(hostMatches("*.example.com", "badexample.com"));
  EXPECT_TRUE(hostMatches("shop.example.com", "shop.example.com"));
  EXPECT_FALSE(hostMatches("shop.example.com", "www.shop.example.com"));
}

TEST(HostMatchTest, ExactBeatsWildcardAndLongerWildcardBeatsShorter) {
  EXPECT_GT(hostSpecificity("shop.example.com"), hostSpecificity("*.shop.example.com"));
  EXPECT_GT(hostSpecificity("*.shop.example.com"), hostSpecificity("*.example.com"));
}

}  // namespace
}  // namespace meshgate::dp
