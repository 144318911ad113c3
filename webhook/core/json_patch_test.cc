// Tests for webhook/core/json_patch.h: RFC 6901 escaping in paths and patches that, applied
// to the source document, give the target.
#include "webhook/core/json_patch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace meshgate::webhook {
namespace {

using nlohmann::json;

TEST(EscapeJsonPointerTokenTest, EscapesTildeAndSlash) {
  EXPECT_EQ(escapeJsonPointerToken("meshgate.io/injected"), "meshgate.io~1injected");
  EXPECT_EQ(escapeJsonPointerToken("a~b"), "a~0b");
  EXPECT_EQ(escapeJsonPointerToken("plain"), "plain");
  EXPECT_EQ(escapeJsonPointerToken(""), "");
}

TEST(EscapeJsonPointerTokenTest, SlashNeverBecomesTildeZeroOne) {
  // Escaping `/` before `~` would turn "/" into "~1" and then into "~01".
  EXPECT_EQ(escapeJsonPointerToken("/"), "~1");
  EXPECT_EQ(escapeJsonPointerToken("~1/"), "~01~1");
}

TEST(JsonPatchTest, EqualDocumentsGiveAnEmptyArray) {
  const json doc = json::parse(R"({"metadata": {"name": "p"}, "spec": {"containers": [{}]}})");
  const json patch = jsonPatch(doc, doc);
  EXPECT_TRUE(patch.is_array());
  EXPECT_TRUE(patch.empty());
}

TEST(JsonPatchTest, AnnotationKeyWithSlashIsEscapedInThePath) {
  const json from = json::parse(R"({"metadata": {"annotations": {"a": "b"}}})");
  json to = from;
  to["metadata"]["annotations"]["meshgate.io/injected"] = "0.1.0";
  const json patch = jsonPatch(from, to);
  ASSERT_EQ(patch.size(), 1u) << patch.dump();
  EXPECT_EQ(patch[0]["op"], "add");
  EXPECT_EQ(patch[0]["path"], "/metadata/annotations/meshgate.io~1injected");
  EXPECT_EQ(patch[0]["value"], "0.1.0");
}

TEST(JsonPatchTest, KeyWithTildeIsEscapedInThePath) {
  const json from = json::object();
  const json to = {{"x~y", 1}};
  const json patch = jsonPatch(from, to);
  ASSERT_EQ(patch.size(), 1u) << patch.dump();
  EXPECT_EQ(patch[0]["path"], "/x~0y");
  EXPECT_EQ(from.patch(patch), to);
}

TEST(JsonPatchTest, AppliedPatchTurnsSourceIntoTarget) {
  const json from = json::parse(R"({
    "metadata": {"name": "p", "labels": {"app": "a", "gone": "x"}},
    "spec": {"containers": [{"name": "app"}, {"name": "old"}, {"name": "older"}]}})");
  const json to = json::parse(R"({
    "metadata": {"name": "p", "labels": {"app": "b"}, "annotations": {"k/v~": "1"}},
    "spec": {"containers": [{"name": "app", "image": "i"}], "volumes": [{"name": "v"}]}})");
  const json patch = jsonPatch(from, to);
  EXPECT_EQ(from.patch(patch), to) << patch.dump(2);
}

TEST(JsonPatchTest, AppendedArrayElementIsAddedAtTheEnd) {
  const json from = json::parse(R"({"c": [{"name": "app"}]})");
  const json to = json::parse(R"({"c": [{"name": "app"}, {"name": "side"}]})");
  const json patch = jsonPatch(from, to);
  ASSERT_EQ(patch.size(), 1u) << patch.dump();
  EXPECT_EQ(patch[0]["op"], "add");
  EXPECT_EQ(patch[0]["path"], "/c/-");
  EXPECT_EQ(from.patch(patch), to);
}

}  // namespace
}  // namespace meshgate::webhook
