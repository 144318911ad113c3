// VerifiedTokenCache: hits only on the same token bytes and the same JwkSet object, evicts the
// least recently used entry at capacity, and caches nothing at capacity 0.
#include "dataplane/auth/verified_token_cache.h"

#include <gtest/gtest.h>

#include "dataplane/auth/testing/jwt_forge.h"

namespace meshgate::auth {
namespace {

using testing::testKeys;

std::shared_ptr<const VerifiedJwt> jwtFor(std::string subject) {
  auto jwt = std::make_shared<VerifiedJwt>();
  jwt->subject = std::move(subject);
  jwt->expiresAt = 1000;
  return jwt;
}

std::shared_ptr<const JwkSet> freshSet() {
  return testing::TestKeys::parseOrThrow(testKeys().jwksJson);
}

TEST(VerifiedTokenCacheTest, HitReturnsInsertedJwt) {
  VerifiedTokenCache cache(4);
  const auto keys = testKeys().set;
  const auto jwt = jwtFor("alice");
  cache.insert("a.b.c", keys, jwt);
  EXPECT_EQ(cache.find("a.b.c", keys), jwt);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(VerifiedTokenCacheTest, DifferentTokenMisses) {
  VerifiedTokenCache cache(4);
  const auto keys = testKeys().set;
  cache.insert("a.b.c", keys, jwtFor("alice"));
  EXPECT_EQ(cache.find("a.b.d", keys), nullptr);
  EXPECT_EQ(cache.find("a.b.c.", keys), nullptr);
  EXPECT_EQ(cache.find("a.b", keys), nullptr);
  EXPECT_EQ(cache.find("", keys), nullptr);
}

TEST(VerifiedTokenCacheTest, ComparesWholeTokenIncludingEmbeddedNul) {
  VerifiedTokenCache cache(4);
  const auto keys = testKeys().set;
  const std::string token("a\0b", 3);
  cache.insert(token, keys, jwtFor("alice"));
  EXPECT_NE(cache.find(token, keys), nullptr);
  EXPECT_EQ(cache.find(std::string("a\0c", 3), keys), nullptr);
  EXPECT_EQ(cache.find("a", keys), nullptr);
}

TEST(VerifiedTokenCacheTest, OtherJwkSetObjectMissesEvenWithSameKeys) {
  VerifiedTokenCache cache(4);
  const auto keys = testKeys().set;
  cache.insert("a.b.c", keys, jwtFor("alice"));
  const auto rotated = freshSet();  // same JSON, another object
  EXPECT_EQ(cache.find("a.b.c", rotated), nullptr);
  EXPECT_NE(cache.find("a.b.c", keys), nullptr);
}

TEST(VerifiedTokenCacheTest, SameTokenUnderTwoSetsIsTwoEntries) {
  VerifiedTokenCache cache(4);
  const auto first = testKeys().set;
  const auto second = freshSet();
  const auto jwt1 = jwtFor("one");
  const auto jwt2 = jwtFor("two");
  cache.insert("a.b.c", first, jwt1);
  cache.insert("a.b.c", second, jwt2);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("a.b.c", first), jwt1);
  EXPECT_EQ(cache.find("a.b.c", second), jwt2);
}

TEST(VerifiedTokenCacheTest, RotatedOutSetStaysAliveWhileCached) {
  VerifiedTokenCache cache(4);
  auto old = freshSet();
  std::weak_ptr<const JwkSet> watch = old;
  cache.insert("a.b.c", old, jwtFor("alice"));
  old.reset();
  EXPECT_FALSE(watch.expired());  // so its address cannot be reused by a newer set
}

TEST(VerifiedTokenCacheTest, ReinsertReplacesEntry) {
  VerifiedTokenCache cache(4);
  const auto keys = testKeys().set;
  cache.insert("a.b.c", keys, jwtFor("old"));
  const auto newer = jwtFor("new");
  cache.insert("a.b.c", keys, newer);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find("a.b.c", keys), newer);
}

TEST(VerifiedTokenCacheTest, EvictsLeastRecentlyUsedAtCapacity) {
  VerifiedTokenCache cache(3);
  const auto keys = testKeys().set;
  cache.insert("t1", keys, jwtFor("1"));
  cache.insert("t2", keys, jwtFor("2"));
  cache.insert("t3", keys, jwtFor("3"));
  ASSERT_NE(cache.find("t1", keys), nullptr);  // t1 is now the most recent; t2 the least
  cache.insert("t4", keys, jwtFor("4"));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("t2", keys), nullptr);
  EXPECT_NE(cache.find("t1", keys), nullptr);
  EXPECT_NE(cache.find("t3", keys), nullptr);
  EXPECT_NE(cache.find("t4", keys), nullptr);
  cache.insert("t5", keys, jwtFor("5"));  // t1 was used before t3 and t4
  EXPECT_EQ(cache.find("t1", keys), nullptr);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(VerifiedTokenCacheTest, StaysBoundedUnderManyInserts) {
  VerifiedTokenCache cache(16);
  const auto keys = testKeys().set;
  for (int i = 0; i < 1000; ++i)
    cache.insert("token-" + std::to_string(i), keys, jwtFor("x"));
  EXPECT_EQ(cache.size(), 16u);
  EXPECT_NE(cache.find("token-999", keys), nullptr);
  EXPECT_NE(cache.find("token-984", keys), nullptr);
  EXPECT_EQ(cache.find("token-983", keys), nullptr);
}

TEST(VerifiedTokenCacheTest, CapacityZeroCachesNothing) {
  VerifiedTokenCache cache(0);
  const auto keys = testKeys().set;
  cache.insert("a.b.c", keys, jwtFor("alice"));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.find("a.b.c", keys), nullptr);
}

TEST(VerifiedTokenCacheTest, CachedVerifiedTokenStillNeedsTimeCheck) {
  // The cache does not look at times; the caller's checkTimes() rejects a token that expired
  // after it was cached.
  VerifiedTokenCache cache(4);
  const std::string token = testKeys().validToken("EdDSA");
  const auto verified = verifyJwt(token, *testKeys().set, testing::testPolicy(), testing::kNow);
  ASSERT_TRUE(verified.ok());
  cache.insert(token, testKeys().set, std::make_shared<VerifiedJwt>(verified.value()));
  const auto hit = cache.find(token, testKeys().set);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(checkTimes(*hit, testing::testPolicy(), testing::kNow), std::nullopt);
  EXPECT_EQ(checkTimes(*hit, testing::testPolicy(), testing::kNow + 3600), JwtFailure::Expired);
}

}  // namespace
}  // namespace meshgate::auth
