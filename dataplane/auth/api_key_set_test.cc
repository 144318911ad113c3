// Tests of ApiKeySet: parsing a Secret's key mapping (names, key lengths and characters,
// duplicates, shapes that are not a mapping), errors that never show key text, and lookup.
#include "dataplane/auth/api_key_set.h"

#include <gtest/gtest.h>

#include <string>

namespace meshgate::auth {
namespace {

constexpr std::string_view kMobileKey = "9f2c0d7e1b4a4c55a8e3";
constexpr std::string_view kPartnerKey = "77c1e0f5c2d94b0f9d1a";

std::shared_ptr<const ApiKeySet> parseOk(std::string_view text) {
  auto parsed = ApiKeySet::parse(text);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error());
  return parsed.ok() ? *parsed : nullptr;
}

std::string parseError(std::string_view text) {
  auto parsed = ApiKeySet::parse(text);
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? std::string() : parsed.error();
}

TEST(ApiKeySetTest, LooksUpEachKeyByItsName) {
  const auto set =
      parseOk("mobile-app: 9f2c0d7e1b4a4c55a8e3\npartner-acme: 77c1e0f5c2d94b0f9d1a\n");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->size(), 2u);
  EXPECT_EQ(set->lookup(kMobileKey), std::optional<std::string_view>("mobile-app"));
  EXPECT_EQ(set->lookup(kPartnerKey), std::optional<std::string_view>("partner-acme"));
}

TEST(ApiKeySetTest, UnknownTruncatedExtendedOrCaseChangedKeysAreNotFound) {
  const auto set = parseOk("mobile-app: 9f2c0d7e1b4a4c55a8e3\n");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->lookup("0000000000000000000000"), std::nullopt);
  EXPECT_EQ(set->lookup(kMobileKey.substr(0, kMobileKey.size() - 1)), std::nullopt);
  EXPECT_EQ(set->lookup(std::string(kMobileKey) + "0"), std::nullopt);
  EXPECT_EQ(set->lookup("9F2C0D7E1B4A4C55A8E3"), std::nullopt);
  EXPECT_EQ(set->lookup(""), std::nullopt);
  EXPECT_EQ(set->lookup(std::string(5000, 'a')), std::nullopt);
}

TEST(ApiKeySetTest, AcceptsQuotedKeysAndEveryVisibleAsciiCharacter) {
  const auto set = parseOk("a.b_c-D9: \"!#$%&'()*+,-./:;<=>?@[]^_`{|}~\"\n");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->lookup("!#$%&'()*+,-./:;<=>?@[]^_`{|}~"),
            std::optional<std::string_view>("a.b_c-D9"));
}

TEST(ApiKeySetTest, AcceptsFlowMappings) {
  const auto set = parseOk("{one: aaaaaaaaaaaaaaaa, two: bbbbbbbbbbbbbbbb}");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->size(), 2u);
  EXPECT_EQ(set->lookup("bbbbbbbbbbbbbbbb"), std::optional<std::string_view>("two"));
}

TEST(ApiKeySetTest, KeyLengthBoundsAreInclusive) {
  const std::string shortest(16, 'k');
  const std::string longest(4096, 'l');
  const auto set = parseOk("short: " + shortest + "\nlong: " + longest + "\n");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->lookup(shortest), std::optional<std::string_view>("short"));
  EXPECT_EQ(set->lookup(longest), std::optional<std::string_view>("long"));

  EXPECT_NE(parseError("short: " + std::string(15, 'k')).find("entry \"short\""),
            std::string::npos);
  EXPECT_NE(parseError("long: " + std::string(4097, 'l')).find("entry \"long\""),
            std::string::npos);
}

TEST(ApiKeySetTest, NameLengthBoundsAreInclusive) {
  const std::string longest(253, 'n');
  const auto set = parseOk(longest + ": 9f2c0d7e1b4a4c55a8e3\n");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->lookup(kMobileKey), std::optional<std::string_view>(longest));

  const std::string error = parseError(std::string(254, 'n') + ": 9f2c0d7e1b4a4c55a8e3\n");
  EXPECT_NE(error.find("entry 1 (line 1)"), std::string::npos) << error;
  EXPECT_EQ(error.find(kMobileKey), std::string::npos) << error;
}

TEST(ApiKeySetTest, InvalidNameIsNamedByItsPositionAndLine) {
  const std::string error = parseError(
      "good: 9f2c0d7e1b4a4c55a8e3\n"
      "has space: 77c1e0f5c2d94b0f9d1a\n");
  EXPECT_NE(error.find("entry 2 (line 2)"), std::string::npos) << error;
  EXPECT_EQ(error.find("has space"), std::string::npos) << error;
  EXPECT_EQ(error.find(kPartnerKey), std::string::npos) << error;
}

TEST(ApiKeySetTest, KeyWithSpaceOrControlCharacterIsRejectedWithoutShowingIt) {
  // A space, and in YAML escapes a tab, DEL, NUL and an e-acute, inside the key.
  for (const std::string key :
       {"9f2c0d7e 1b4a4c55a8e3", "9f2c0d7e\\t1b4a4c55a8e3", "9f2c0d7e\\x7f1b4a4c55a8e3",
        "9f2c0d7e\\x001b4a4c55a8e3", "9f2c0d7e\\u00e91b4a4c55a8e3"}) {
    const std::string error = parseError("mobile-app: \"" + key + "\"\n");
    EXPECT_NE(error.find("entry \"mobile-app\""), std::string::npos) << error;
    EXPECT_EQ(error.find("9f2c0d7e"), std::string::npos) << error;
    EXPECT_EQ(error.find("1b4a4c55"), std::string::npos) << error;
  }
}

TEST(ApiKeySetTest, DuplicateNameIsRejected) {
  const std::string error = parseError(
      "mobile-app: 9f2c0d7e1b4a4c55a8e3\n"
      "mobile-app: 77c1e0f5c2d94b0f9d1a\n");
  EXPECT_NE(error.find("entry \"mobile-app\""), std::string::npos) << error;
  EXPECT_NE(error.find("more than once"), std::string::npos) << error;
  EXPECT_EQ(error.find(kMobileKey), std::string::npos) << error;
  EXPECT_EQ(error.find(kPartnerKey), std::string::npos) << error;
}

TEST(ApiKeySetTest, TwoNamesWithTheSameKeyAreRejectedNamingBoth) {
  const std::string error = parseError(
      "mobile-app: 9f2c0d7e1b4a4c55a8e3\n"
      "partner-acme: 77c1e0f5c2d94b0f9d1a\n"
      "copy: 9f2c0d7e1b4a4c55a8e3\n");
  EXPECT_NE(error.find("entry \"copy\""), std::string::npos) << error;
  EXPECT_NE(error.find("\"mobile-app\""), std::string::npos) << error;
  EXPECT_EQ(error.find(kMobileKey), std::string::npos) << error;
}

TEST(ApiKeySetTest, EmptyValueAndEmptyMappingAreRejected) {
  EXPECT_FALSE(parseError("").empty());
  EXPECT_FALSE(parseError("# no keys\n").empty());
  EXPECT_FALSE(parseError("{}").empty());
}

TEST(ApiKeySetTest, ValuesThatAreNotAMappingAreRejected) {
  EXPECT_NE(parseError("9f2c0d7e1b4a4c55a8e3").find("mapping"), std::string::npos);
  EXPECT_NE(parseError("- 9f2c0d7e1b4a4c55a8e3\n").find("mapping"), std::string::npos);
}

TEST(ApiKeySetTest, NonScalarNamesAndKeysAreRejected) {
  EXPECT_NE(parseError("mobile-app: [9f2c0d7e1b4a4c55a8e3]\n").find("entry \"mobile-app\""),
            std::string::npos);
  EXPECT_NE(parseError("mobile-app:\n").find("entry \"mobile-app\""), std::string::npos);
  EXPECT_NE(parseError("? [a, b]\n: 9f2c0d7e1b4a4c55a8e3\n").find("entry 1"), std::string::npos);
}

TEST(ApiKeySetTest, YamlSyntaxErrorReportsOnlyThePosition) {
  // An unknown escape: yaml-cpp's own message would quote the character after the backslash.
  const std::string error = parseError("mobile-app: \"9f2c0d7e1b4a\\q4c55a8e3\"\n");
  EXPECT_NE(error.find("not valid YAML"), std::string::npos) << error;
  EXPECT_NE(error.find("line 1"), std::string::npos) << error;
  EXPECT_EQ(error.find("q"), std::string::npos) << error;
  EXPECT_EQ(error.find("9f2c"), std::string::npos) << error;
}

TEST(ApiKeySetTest, LookupViewOutlivesTheParseResult) {
  std::shared_ptr<const ApiKeySet> set;
  {
    auto parsed = ApiKeySet::parse("partner-acme: 77c1e0f5c2d94b0f9d1a\n");
    ASSERT_TRUE(parsed.ok());
    set = *parsed;
  }
  const std::string presented(kPartnerKey);
  const auto name = set->lookup(presented);
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(*name, "partner-acme");
}

TEST(ApiKeySetTest, ManyKeysAreAllFound) {
  std::string text;
  for (int i = 0; i < 500; ++i) {
    text += "client-" + std::to_string(i) + ": key-of-client-number-" + std::to_string(i) + "\n";
  }
  const auto set = parseOk(text);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->size(), 500u);
  for (int i = 0; i < 500; ++i) {
    const auto name = set->lookup("key-of-client-number-" + std::to_string(i));
    ASSERT_TRUE(name.has_value()) << i;
    EXPECT_EQ(*name, "client-" + std::to_string(i));
  }
  EXPECT_EQ(set->lookup("key-of-client-number-500"), std::nullopt);
}

}  // namespace
}  // namespace meshgate::auth
