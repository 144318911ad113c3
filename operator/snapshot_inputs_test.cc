// changesSnapshots: status writes and write bookkeeping are not changes; spec, labels,
// annotations, generation and deletion are.
#include "operator/snapshot_inputs.h"

#include <gtest/gtest.h>

namespace meshgate::op {
namespace {

using nlohmann::json;

json route() {
  return {{"apiVersion", "meshgate.io/v1alpha1"},
          {"kind", "ApiRoute"},
          {"metadata",
           {{"name", "shop"},
            {"namespace", "shop"},
            {"generation", 3},
            {"resourceVersion", "100"},
            {"labels", {{"team", "a"}}},
            {"managedFields", json::array({{{"manager", "kubectl"}}})}}},
          {"spec", {{"hosts", {"shop.example.com"}}}},
          {"status", {{"observedGeneration", 2}}}};
}

TEST(SnapshotInputsTest, AStatusWriteIsNotAChange) {
  json after = route();
  after["status"] = {{"observedGeneration", 3}, {"conditions", json::array()}};
  after["metadata"]["resourceVersion"] = "101";
  after["metadata"]["managedFields"].push_back({{"manager", "meshgate-operator"}});
  EXPECT_FALSE(changesSnapshots(route(), after));
  json noStatus = route();
  noStatus.erase("status");
  EXPECT_FALSE(changesSnapshots(noStatus, route()));
}

TEST(SnapshotInputsTest, SpecMetadataAndDeletionAreChanges) {
  json spec = route();
  spec["spec"]["hosts"].push_back("www.example.com");
  EXPECT_TRUE(changesSnapshots(route(), spec));
  json label = route();
  label["metadata"]["labels"]["team"] = "b";
  EXPECT_TRUE(changesSnapshots(route(), label));
  json annotation = route();
  annotation["metadata"]["annotations"] = {{"meshgate.io/allowed-hosts", "*.example.com"}};
  EXPECT_TRUE(changesSnapshots(route(), annotation));
  json deleting = route();
  deleting["metadata"]["deletionTimestamp"] = "2026-12-05T00:00:00Z";
  EXPECT_TRUE(changesSnapshots(route(), deleting));
  json generation = route();
  generation["metadata"]["generation"] = 4;
  EXPECT_TRUE(changesSnapshots(route(), generation));
  json noMetadata = route();
  noMetadata.erase("metadata");
  EXPECT_TRUE(changesSnapshots(route(), noMetadata));
}

}  // namespace
}  // namespace meshgate::op
