// Tests for cli/object_diff.h: one rendered object against its live copy — paths that differ,
// what is never compared (server-owned metadata, an ownerReference uid render does not know,
// fields render does not set) and how the applied-hash annotation is read.
#include "cli/object_diff.h"

#include <gtest/gtest.h>

#include "operator/desired_state.h"

namespace meshgate::cli {
namespace {

using nlohmann::json;

// A Service as the operator applies it for MeshService shop/web, hash stamped; `ownerUid` empty
// is what render prints for an owner whose manifest has no uid.
json renderedService(int targetPort = 9090, const std::string& ownerUid = "uid-web") {
  json owner = {{"apiVersion", "meshgate.io/v1alpha1"},
                {"kind", "MeshService"},
                {"name", "web"},
                {"controller", true},
                {"blockOwnerDeletion", true}};
  if (!ownerUid.empty()) owner["uid"] = ownerUid;
  json service = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       {{"name", "web"},
        {"namespace", "shop"},
        {"labels",
         {{"app.kubernetes.io/managed-by", "meshgate"}, {"meshgate.io/meshservice", "web"}}},
        {"ownerReferences", json::array({owner})}}},
      {"spec",
       {{"selector", {{"app", "web"}}},
        {"ports", json::array({{{"name", "http"},
                                {"port", 80},
                                {"targetPort", targetPort},
                                {"protocol", "TCP"},
                                {"appProtocol", "http"}}})}}}};
  op::stampAppliedHash(service);
  return service;
}

// What the apiserver returns once the operator applied `applied` for an owner with uid-web:
// server-owned metadata, the owner's uid, defaults and status added.
json liveCopyOf(json applied) {
  auto& metadata = applied["metadata"];
  metadata["uid"] = "0b6f3c5e-live";
  metadata["resourceVersion"] = "4711";
  metadata["generation"] = 3;
  metadata["creationTimestamp"] = "2024-05-01T10:00:00Z";
  metadata["managedFields"] = json::array({{{"manager", "meshgate"}, {"operation", "Apply"}}});
  metadata["labels"]["team"] = "payments";
  for (auto& reference : metadata["ownerReferences"])
    reference["uid"] = "uid-web";
  applied["spec"]["clusterIP"] = "10.96.0.12";
  applied["spec"]["type"] = "ClusterIP";
  applied["spec"]["sessionAffinity"] = "None";
  applied["status"] = {{"loadBalancer", json::object()}};
  return applied;
}

TEST(ObjectDiffTest, EqualObjectsWithEqualAppliedHashAreUpToDate) {
  const json rendered = renderedService();
  const json live = liveCopyOf(rendered);
  const ObjectDiff diff = diffObject(rendered, &live);
  EXPECT_EQ(diff.change, ObjectChange::kUpToDate);
  EXPECT_TRUE(diff.fields.empty());
  EXPECT_EQ(diff.note, "applied-hash equal");
  EXPECT_EQ(diff.kind, "Service");
  EXPECT_EQ(diff.ns, "shop");
  EXPECT_EQ(diff.name, "web");
}

TEST(ObjectDiffTest, ChangedPortIsReportedByItsPathWithBothValues) {
  const json live = liveCopyOf(renderedService(8080));
  const ObjectDiff diff = diffObject(renderedService(9090), &live);
  EXPECT_EQ(diff.change, ObjectChange::kUpdate);
  ASSERT_EQ(diff.fields.size(), 1u);
  EXPECT_EQ(diff.fields[0], (FieldDifference{"spec.ports[0].targetPort", json(8080), json(9090)}));
}

TEST(ObjectDiffTest, FieldAbsentFromTheLiveObjectIsReportedAbsent) {
  json live = liveCopyOf(renderedService());
  live["spec"].erase("selector");
  const ObjectDiff diff = diffObject(renderedService(), &live);
  EXPECT_EQ(diff.change, ObjectChange::kUpdate);
  ASSERT_EQ(diff.fields.size(), 1u);
  EXPECT_EQ(diff.fields[0], (FieldDifference{"spec.selector", std::nullopt, json{{"app", "web"}}}));
  EXPECT_EQ(diff.note, "changed in the cluster since the operator applied it (applied-hash equal)");
}

TEST(ObjectDiffTest, ServerOwnedMetadataAndFieldsRenderDoesNotSetAreNotCompared) {
  // The rendered object has values the live one contradicts only where the server owns them.
  json rendered = renderedService(9090, "");
  rendered["metadata"]["uid"] = "rendered-uid";
  rendered["metadata"]["resourceVersion"] = "1";
  rendered["metadata"]["generation"] = 1;
  const json live = liveCopyOf(renderedService(9090, "uid-web"));
  const ObjectDiff diff = diffObject(rendered, &live);
  EXPECT_EQ(diff.change, ObjectChange::kUpToDate) << diff.fields.size() << " fields differ";
  EXPECT_TRUE(diff.fields.empty());
}

TEST(ObjectDiffTest, OwnerUidIsComparedWhenRenderKnowsIt) {
  const json live = liveCopyOf(renderedService(9090, "uid-web"));
  const ObjectDiff diff = diffObject(renderedService(9090, "uid-other"), &live);
  EXPECT_EQ(diff.change, ObjectChange::kUpdate);
  ASSERT_EQ(diff.fields.size(), 1u);
  EXPECT_EQ(diff.fields[0].path, "metadata.ownerReferences[0].uid");
}

TEST(ObjectDiffTest, WithoutOwnerUidTheHashIsNotComparedAndEqualFieldsAreUpToDate) {
  // Render's hash covers an ownerReference without uid, the operator's one with it: they differ.
  const json rendered = renderedService(9090, "");
  const json live = liveCopyOf(renderedService(9090, "uid-web"));
  const ObjectDiff diff = diffObject(rendered, &live);
  EXPECT_EQ(diff.change, ObjectChange::kUpToDate);
  EXPECT_EQ(diff.note, "applied-hash not compared: the owner's manifest has no uid");
}

TEST(ObjectDiffTest, DifferentHashWithEqualFieldsIsAnUpdateNamingTheAnnotation) {
  // The live Service was applied when the MeshService still had a selector; render drops it.
  json rendered = renderedService();
  rendered["spec"].erase("selector");
  op::stampAppliedHash(rendered);
  const json live = liveCopyOf(renderedService());
  const ObjectDiff diff = diffObject(rendered, &live);
  EXPECT_EQ(diff.change, ObjectChange::kUpdate);
  ASSERT_EQ(diff.fields.size(), 1u);
  EXPECT_EQ(diff.fields[0].path, "metadata.annotations[\"meshgate.io/applied-hash\"]");
  EXPECT_EQ(diff.fields[0].live, live["metadata"]["annotations"]["meshgate.io/applied-hash"]);
  EXPECT_EQ(diff.fields[0].rendered,
            rendered["metadata"]["annotations"]["meshgate.io/applied-hash"]);
}

TEST(ObjectDiffTest, AbsentLiveObjectIsCreatedWithTheWholeRenderedObject) {
  const json rendered = renderedService();
  const ObjectDiff diff = diffObject(rendered, nullptr);
  EXPECT_EQ(diff.change, ObjectChange::kCreate);
  EXPECT_EQ(diff.object, rendered);
  EXPECT_TRUE(diff.fields.empty());
}

TEST(ObjectDiffTest, ListElementsAreComparedInOrderAndExtraOnesOnEitherSideReported) {
  const json rendered = {
      {"endpoints", json::array({{{"addresses", {"10.0.0.1"}}}, {{"addresses", {"10.0.0.2"}}}})}};
  const json shorter = {{"endpoints", json::array({{{"addresses", {"10.0.0.1"}}}})}};
  EXPECT_EQ(diffFields(rendered, shorter),
            std::vector<FieldDifference>(
                {{"endpoints[1]", std::nullopt, json{{"addresses", {"10.0.0.2"}}}}}));
  const json longer = {{"endpoints", json::array({{{"addresses", {"10.0.0.1"}}},
                                                  {{"addresses", {"10.0.0.9"}}},
                                                  {{"addresses", {"10.0.0.2"}}}})}};
  EXPECT_EQ(diffFields(rendered, longer),
            std::vector<FieldDifference>(
                {{"endpoints[1].addresses[0]", json("10.0.0.9"), json("10.0.0.2")},
                 {"endpoints[2]", json{{"addresses", {"10.0.0.2"}}}, std::nullopt}}));
}

TEST(ObjectDiffTest, KeysThatAreNotIdentifiersAreQuotedInThePath) {
  const json rendered = {
      {"metadata", {{"labels", {{"app.kubernetes.io/managed-by", "meshgate"}}}}}};
  const json live = {{"metadata", {{"labels", {{"app.kubernetes.io/managed-by", "helm"}}}}}};
  const auto fields = diffFields(rendered, live);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].path, "metadata.labels[\"app.kubernetes.io/managed-by\"]");
}

TEST(ObjectDiffTest, EmptyRenderedValueMatchesAnAbsentOneAndNumbersCompareByValue) {
  const json rendered = {
      {"spec", {{"selector", json::object()}, {"tls", json::array()}, {"port", 80}}}};
  const json live = {{"spec", {{"port", 80.0}}}};
  EXPECT_TRUE(diffFields(rendered, live).empty());
  const json typeChanged = {{"spec", {{"port", "80"}}}};
  EXPECT_EQ(diffFields(rendered, typeChanged),
            std::vector<FieldDifference>({{"spec.port", json("80"), json(80)}}));
}

}  // namespace
}  // namespace meshgate::cli
