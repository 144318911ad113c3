// parseStrictJson: accepts ordinary JSON unchanged and refuses what two parsers could read
// differently (duplicate keys, deep nesting, bad UTF-8, trailing bytes).
#include "dataplane/auth/strict_json.h"

#include <gtest/gtest.h>

namespace meshgate::auth {
namespace {

TEST(StrictJsonTest, ParsesNestedDocument) {
  const auto parsed = parseStrictJson(
      R"( {"a": [1, -2, 3.5, "x", true, null, {"b": {}}], "c": {"d": []}, "e": 18446744073709551615} )");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed.value()["a"][0], 1);
  EXPECT_EQ(parsed.value()["a"][1], -2);
  EXPECT_EQ(parsed.value()["a"][2], 3.5);
  EXPECT_EQ(parsed.value()["a"][3], "x");
  EXPECT_TRUE(parsed.value()["a"][6]["b"].is_object());
  EXPECT_TRUE(parsed.value()["c"]["d"].is_array());
  EXPECT_EQ(parsed.value()["e"].get<uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(parsed.value().size(), 3u);
}

TEST(StrictJsonTest, ParsesScalarsAtTopLevel) {
  EXPECT_EQ(parseStrictJson("42").value(), 42);
  EXPECT_EQ(parseStrictJson("\"s\"").value(), "s");
  EXPECT_TRUE(parseStrictJson("null").value().is_null());
}

TEST(StrictJsonTest, ArrayOfObjectsKeepsEveryElement) {
  // Growing an array moves its elements; the builder must not write through a stale pointer.
  std::string text = "[";
  for (int i = 0; i < 100; ++i)
    text += (i ? "," : "") + std::string("{\"i\":[") + std::to_string(i) + "]}";
  text += "]";
  const auto parsed = parseStrictJson(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  ASSERT_EQ(parsed.value().size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(parsed.value()[i]["i"][0], i);
}

TEST(StrictJsonTest, RejectsDuplicateKeyAtTopLevel) {
  const auto parsed = parseStrictJson(R"({"exp": 1, "exp": 2})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), "duplicate object key");
}

TEST(StrictJsonTest, RejectsDuplicateKeyNested) {
  EXPECT_FALSE(parseStrictJson(R"({"a": [{"b": 1, "c": 2, "b": 3}]})").ok());
  EXPECT_FALSE(parseStrictJson(R"({"a": {"x": {"y": 1, "y": 1}}})").ok());
}

TEST(StrictJsonTest, SameKeyInSiblingObjectsIsFine) {
  EXPECT_TRUE(parseStrictJson(R"({"a": {"k": 1}, "b": {"k": 2}})").ok());
}

TEST(StrictJsonTest, DuplicateKeyThroughEscapeIsStillDuplicate) {
  EXPECT_FALSE(parseStrictJson(R"({"iss": 1, "\u0069ss": 2})").ok());
}

TEST(StrictJsonTest, EnforcesMaxDepth) {
  EXPECT_TRUE(parseStrictJson("[[[]]]", 3).ok());
  EXPECT_FALSE(parseStrictJson("[[[[]]]]", 3).ok());
  EXPECT_TRUE(parseStrictJson("{\"a\":{\"b\":{}}}", 3).ok());
  EXPECT_FALSE(parseStrictJson("{\"a\":{\"b\":{\"c\":{}}}}", 3).ok());
  EXPECT_TRUE(parseStrictJson("1", 0).ok());
  EXPECT_FALSE(parseStrictJson("[]", 0).ok());
}

TEST(StrictJsonTest, RejectsVeryDeepNestingWithDefaultLimit) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const auto parsed = parseStrictJson(deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), "nesting deeper than 32");
}

TEST(StrictJsonTest, RejectsInvalidUtf8) {
  EXPECT_FALSE(parseStrictJson("\"\xff\"").ok());
  EXPECT_FALSE(parseStrictJson("\"\xc3\"").ok());          // truncated sequence
  EXPECT_FALSE(parseStrictJson("\"\xc0\xaf\"").ok());      // overlong '/'
  EXPECT_FALSE(parseStrictJson("\"\xed\xa0\x80\"").ok());  // UTF-16 surrogate in UTF-8
  EXPECT_FALSE(parseStrictJson(R"("\ud800")").ok());       // lone escaped surrogate
  EXPECT_TRUE(parseStrictJson("\"\xc3\xa9\xf0\x9f\x98\x80\"").ok());
}

TEST(StrictJsonTest, RejectsTrailingBytes) {
  EXPECT_FALSE(parseStrictJson("{} x").ok());
  EXPECT_FALSE(parseStrictJson("{}{}").ok());
  EXPECT_FALSE(parseStrictJson(std::string_view("{}\0", 3)).ok());
  EXPECT_TRUE(parseStrictJson("{} \n").ok());
}

TEST(StrictJsonTest, RejectsRawNulAnywhereButAcceptsEscapedNul) {
  // nlohmann's lexer would stop at the NUL and accept the first document alone.
  EXPECT_FALSE(parseStrictJson(std::string_view("{\"a\":1}\0{\"a\":2}", 15)).ok());
  EXPECT_FALSE(parseStrictJson(std::string_view("\"a\0b\"", 5)).ok());
  const auto escaped = parseStrictJson(R"("a\u0000b")");
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ(escaped.value().get<std::string>(), std::string("a\0b", 3));
}

TEST(StrictJsonTest, RejectsByteOrderMarkCommentsAndEmptyInput) {
  EXPECT_FALSE(parseStrictJson("\xEF\xBB\xBF{}").ok());
  EXPECT_FALSE(parseStrictJson("{} // c").ok());
  EXPECT_FALSE(parseStrictJson("").ok());
  EXPECT_FALSE(parseStrictJson("{'a': 1}").ok());
}

TEST(StrictJsonTest, ErrorDoesNotQuoteInput) {
  const auto parsed = parseStrictJson(R"({"secret": "hunter2" x})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().find("hunter2"), std::string::npos);
  EXPECT_NE(parsed.error().find("byte"), std::string::npos);
}

}  // namespace
}  // namespace meshgate::auth
