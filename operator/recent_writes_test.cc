// RecentWrites: a write is recognised while the cache lags behind it; any event for the object
// (its own write, another change, a deletion) ends that, also when it arrives while the write is
// still in flight; different content never matches.
#include "operator/recent_writes.h"

#include <gtest/gtest.h>

namespace meshgate::op {
namespace {

constexpr char kKey[] = "services/shop/web";

// A write of "digest-1" made while the cache showed `cachedVersion`, answered with "11".
void writeFrom(RecentWrites& writes, const std::string& cachedVersion) {
  writes.begin(kKey);
  writes.record(kKey, "digest-1", cachedVersion, "11");
}

TEST(RecentWritesTest, TheSameWriteWhileTheCacheLagsIsAlreadyWritten) {
  RecentWrites writes;
  writeFrom(writes, "10");
  EXPECT_TRUE(writes.alreadyWritten(kKey, "digest-1", "10"));
  EXPECT_TRUE(writes.alreadyWritten(kKey, "digest-1", "10"));
}

TEST(RecentWritesTest, ACreateNotYetCachedIsAlreadyWritten) {
  RecentWrites writes;
  writeFrom(writes, "");
  EXPECT_TRUE(writes.alreadyWritten(kKey, "digest-1", ""));
}

TEST(RecentWritesTest, DifferentContentIsWrittenAndTheEntryDropped) {
  RecentWrites writes;
  writeFrom(writes, "10");
  EXPECT_FALSE(writes.alreadyWritten(kKey, "digest-2", "10"));
  EXPECT_EQ(writes.size(), 0u);
}

TEST(RecentWritesTest, AnEventForTheObjectHandsTheDecisionBackToTheCache) {
  RecentWrites writes;
  writeFrom(writes, "");
  writes.observed(kKey, "11");  // the create came back
  // Then someone deletes it: the cache is empty again, as before the create. Not ours to skip.
  EXPECT_FALSE(writes.alreadyWritten(kKey, "digest-1", ""));
}

TEST(RecentWritesTest, TheWritesOwnEventArrivingBeforeItsAnswerIsNotMistakenForALaggingCache) {
  RecentWrites writes;
  writes.begin(kKey);
  writes.observed(kKey, "11");  // the watch was faster than the response
  writes.record(kKey, "digest-1", "", "11");
  EXPECT_EQ(writes.size(), 0u);
  EXPECT_FALSE(writes.alreadyWritten(kKey, "digest-1", ""));
}

TEST(RecentWritesTest, ADeletionWhileTheWriteIsInFlightIsNotMistakenForALaggingCache) {
  RecentWrites writes;
  writes.begin(kKey);
  writes.observed(kKey, "");
  writes.record(kKey, "digest-1", "10", "11");
  EXPECT_FALSE(writes.alreadyWritten(kKey, "digest-1", "10"));
}

TEST(RecentWritesTest, AFailedWriteLeavesNothing) {
  RecentWrites writes;
  writes.begin(kKey);
  writes.abandon(kKey);
  EXPECT_EQ(writes.size(), 0u);
}

TEST(RecentWritesTest, TheInformerHandlersObserveAddsUpdatesAndDeletes) {
  RecentWrites writes;
  writeFrom(writes, "10");
  const kube::EventHandlers handlers = writes.forgetOnEvents("services");
  const auto other = std::make_shared<const nlohmann::json>(nlohmann::json{
      {"metadata", {{"name", "api"}, {"namespace", "shop"}, {"resourceVersion", "12"}}}});
  handlers.onAdd(other);
  EXPECT_TRUE(writes.alreadyWritten(kKey, "digest-1", "10")) << "another object's event";
  const auto web = std::make_shared<const nlohmann::json>(nlohmann::json{
      {"metadata", {{"name", "web"}, {"namespace", "shop"}, {"resourceVersion", "11"}}}});
  handlers.onUpdate(web, web);
  EXPECT_EQ(writes.size(), 0u);
}

}  // namespace
}  // namespace meshgate::op
