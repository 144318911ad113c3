// namespaceTerminating: a deletionTimestamp says so; an active or uncached namespace does not.
#include "operator/namespace_state.h"

#include <gtest/gtest.h>

namespace meshgate::op {
namespace {

TEST(NamespaceStateTest, OnlyADeletionTimestampMeansTerminating) {
  kube::ThreadSafeStore namespaces;
  namespaces.add("active", std::make_shared<const nlohmann::json>(
                               nlohmann::json{{"metadata", {{"name", "active"}}}}));
  namespaces.add(
      "closing",
      std::make_shared<const nlohmann::json>(nlohmann::json{
          {"metadata", {{"name", "closing"}, {"deletionTimestamp", "2026-11-26T05:00:00Z"}}}}));
  EXPECT_FALSE(namespaceTerminating(namespaces, "active"));
  EXPECT_TRUE(namespaceTerminating(namespaces, "closing"));
  EXPECT_FALSE(namespaceTerminating(namespaces, "not-cached-yet"));
}

TEST(NamespaceStateTest, AGoneNamespaceStaysSkippedUntilItIsCachedAgain) {
  kube::ThreadSafeStore namespaces;
  GoneNamespaces gone(namespaces);
  EXPECT_FALSE(gone.isGone("orphans"));
  gone.markGone("orphans");
  EXPECT_TRUE(gone.isGone("orphans"));
  namespaces.add("orphans", std::make_shared<const nlohmann::json>(
                                nlohmann::json{{"metadata", {{"name", "orphans"}}}}));
  EXPECT_FALSE(gone.isGone("orphans"));
  namespaces.remove("orphans");
  EXPECT_FALSE(gone.isGone("orphans"));  // cleared: only a new 404 marks it again
}

}  // namespace
}  // namespace meshgate::op
