// Tests for cli/cluster_diff.h: rendered objects against the live set — creations and updates
// per object, managed objects render no longer produces reported as deletions (by the operator,
// or with an owner that is not in the input), children of invalid owners left alone, unmanaged
// objects and other namespaces ignored, and the order of the result.
#include "cli/cluster_diff.h"

#include <gtest/gtest.h>

namespace meshgate::cli {
namespace {

using nlohmann::json;

json child(const std::string& kind, const std::string& ns, const std::string& name,
           const std::string& ownerKind, const std::string& ownerName) {
  json object = {{"kind", kind},
                 {"metadata",
                  {{"name", name},
                   {"namespace", ns},
                   {"labels", {{"app.kubernetes.io/managed-by", "meshgate"}}},
                   {"ownerReferences", json::array({{{"apiVersion", "meshgate.io/v1alpha1"},
                                                     {"kind", ownerKind},
                                                     {"name", ownerName},
                                                     {"controller", true}}})}}}};
  if (kind == "EndpointSlice")
    object["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] = "meshgate.io";
  return object;
}

json live(json object) {
  object["metadata"]["uid"] = "live-" + object["metadata"]["name"].get<std::string>();
  object["metadata"]["resourceVersion"] = "12";
  return object;
}

const ObjectDiff* find(const std::vector<ObjectDiff>& diffs, const std::string& kind,
                       const std::string& name) {
  for (const auto& diff : diffs)
    if (diff.kind == kind && diff.name == name) return &diff;
  return nullptr;
}

const std::vector<InputOwner> kWebOwners = {{"MeshService", "shop", "web", true},
                                            {"ApiRoute", "shop", "storefront", true}};

TEST(ClusterDiffTest, ExtraManagedObjectOfAnInputOwnerWouldBeDeletedByTheOperator) {
  // The MeshService lost its IPv6 endpoint: render no longer produces that static slice.
  const json service = child("Service", "shop", "web", "MeshService", "web");
  const json slice = child("EndpointSlice", "shop", "web-static-ipv4", "MeshService", "web");
  const json stale = child("EndpointSlice", "shop", "web-static-ipv6", "MeshService", "web");
  const auto diffs =
      compareWithCluster({service, slice}, {live(service), live(slice), live(stale)}, kWebOwners);
  ASSERT_EQ(diffs.size(), 3u);
  const ObjectDiff* deleted = find(diffs, "EndpointSlice", "web-static-ipv6");
  ASSERT_NE(deleted, nullptr);
  EXPECT_EQ(deleted->change, ObjectChange::kDelete);
  EXPECT_EQ(deleted->note, "the operator deletes it: MeshService shop/web no longer produces it");
  EXPECT_EQ(find(diffs, "EndpointSlice", "web-static-ipv4")->change, ObjectChange::kUpToDate);
  EXPECT_TRUE(hasChanges(diffs));
}

TEST(ClusterDiffTest, ManagedObjectWhoseOwnerIsNotInTheInputIsReportedOrphaned) {
  const json other = child("Ingress", "shop", "legacy", "ApiRoute", "legacy");
  const auto diffs = compareWithCluster({}, {live(other)}, kWebOwners);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].change, ObjectChange::kDelete);
  EXPECT_EQ(diffs[0].note,
            "orphaned: its owner ApiRoute shop/legacy is not in the input; the garbage collector "
            "deletes it with its owner");
}

TEST(ClusterDiffTest, RenderedObjectMissingFromTheClusterWouldBeCreated) {
  const json ingress = child("Ingress", "shop", "storefront", "ApiRoute", "storefront");
  const auto diffs = compareWithCluster({ingress}, {}, kWebOwners);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].change, ObjectChange::kCreate);
  EXPECT_EQ(diffs[0].object, ingress);
  EXPECT_TRUE(hasChanges(diffs));
}

TEST(ClusterDiffTest, UnmanagedObjectsAndOtherNamespacesAreNotReported) {
  // A slice the EndpointSlice controller made for a selector copies the Service's managed-by
  // label, but is not meshgate's to delete.
  json discovered = child("EndpointSlice", "shop", "web-abcde", "MeshService", "web");
  discovered["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] =
      "endpointslice-controller.k8s.io";
  json handmade = child("Service", "shop", "handmade", "MeshService", "handmade");
  handmade["metadata"]["labels"].erase("app.kubernetes.io/managed-by");
  const json elsewhere = child("Ingress", "billing", "invoices", "ApiRoute", "invoices");
  const auto diffs =
      compareWithCluster({}, {live(discovered), live(handmade), live(elsewhere)}, kWebOwners);
  EXPECT_TRUE(diffs.empty());
  EXPECT_FALSE(hasChanges(diffs));
}

TEST(ClusterDiffTest, ChildrenOfAnInvalidOwnerAreLeftAsTheyAre) {
  const json service = child("Service", "shop", "broken", "MeshService", "broken");
  const auto diffs =
      compareWithCluster({}, {live(service)}, {{"MeshService", "shop", "broken", false}});
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].change, ObjectChange::kLeftAsIs);
  EXPECT_EQ(diffs[0].note,
            "its owner MeshService shop/broken is invalid: the operator leaves its children");
  EXPECT_FALSE(hasChanges(diffs));
}

TEST(ClusterDiffTest, UpToDateObjectsAreNoChangeAndTheResultIsSortedByKindNamespaceName) {
  const json service = child("Service", "shop", "web", "MeshService", "web");
  const json ingress = child("Ingress", "shop", "storefront", "ApiRoute", "storefront");
  const json sliceB = child("EndpointSlice", "shop", "web-static-ipv6", "MeshService", "web");
  const json sliceA = child("EndpointSlice", "shop", "web-static-ipv4", "MeshService", "web");
  const auto diffs =
      compareWithCluster({service, ingress, sliceB, sliceA},
                         {live(service), live(ingress), live(sliceB), live(sliceA)}, kWebOwners);
  std::vector<std::string> order;
  for (const auto& diff : diffs) {
    EXPECT_EQ(diff.change, ObjectChange::kUpToDate) << diff.name;
    order.push_back(diff.kind + "/" + diff.name);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"EndpointSlice/web-static-ipv4",
                                             "EndpointSlice/web-static-ipv6", "Ingress/storefront",
                                             "Service/web"}));
  EXPECT_FALSE(hasChanges(diffs));
}

TEST(ClusterDiffTest, ALiveCopyFetchedTwiceIsComparedOnce) {
  const json service = child("Service", "shop", "web", "MeshService", "web");
  json changed = live(service);
  changed["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "someone";
  const auto diffs = compareWithCluster({service}, {changed, live(service)}, kWebOwners);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].change, ObjectChange::kUpdate);
}

}  // namespace
}  // namespace meshgate::cli
