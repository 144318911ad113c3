// RecentWrites: a write is recognised while the cache lags behind it, forgotten once the cache
// shows it or another change, and never matches different content.
#include "operator/recent_writes.h"

#include <gtest/gtest.h>

namespace meshgate::op {
namespace {

TEST(RecentWritesTest, TheSameWriteWhileTheCacheLagsIsAlreadyWritten) {
  RecentWrites writes;
  writes.record("services/shop/web", "digest-1", "10", "11");
  EXPECT_TRUE(writes.alreadyWritten("services/shop/web", "digest-1", "10"));
  EXPECT_TRUE(writes.alreadyWritten("services/shop/web", "digest-1", "10"));
}

TEST(RecentWritesTest, ACreateNotYetCachedIsAlreadyWritten) {
  RecentWrites writes;
  writes.record("services/shop/web", "digest-1", "", "11");
  EXPECT_TRUE(writes.alreadyWritten("services/shop/web", "digest-1", ""));
}

TEST(RecentWritesTest, DifferentContentIsWrittenAndTheEntryDropped) {
  RecentWrites writes;
  writes.record("services/shop/web", "digest-1", "10", "11");
  EXPECT_FALSE(writes.alreadyWritten("services/shop/web", "digest-2", "10"));
  EXPECT_EQ(writes.size(), 0u);
}

TEST(RecentWritesTest, OnceTheCacheShowsTheWriteTheCacheDecides) {
  RecentWrites writes;
  writes.record("services/shop/web", "digest-1", "10", "11");
  EXPECT_FALSE(writes.alreadyWritten("services/shop/web", "digest-1", "11"));
  EXPECT_EQ(writes.size(), 0u);
}

TEST(RecentWritesTest, AChangeBySomeoneElseIsNotMistakenForOurs) {
  RecentWrites writes;
  writes.record("services/shop/web", "digest-1", "10", "11");
  // Someone edited the object after our write: the cache shows 12, drifted.
  EXPECT_FALSE(writes.alreadyWritten("services/shop/web", "digest-1", "12"));
}

TEST(RecentWritesTest, KeysAreIndependent) {
  RecentWrites writes;
  writes.record("services/shop/web", "digest-1", "10", "11");
  EXPECT_FALSE(writes.alreadyWritten("services/shop/api", "digest-1", "10"));
  EXPECT_TRUE(writes.alreadyWritten("services/shop/web", "digest-1", "10"));
}

}  // namespace
}  // namespace meshgate::op
