// base64UrlEncode/base64UrlDecode: RFC 4648 vectors in the URL alphabet, and the strictness the
// JWT verifier relies on (no padding, no foreign characters, canonical trailing bits).
#include "dataplane/auth/base64url.h"

#include <gtest/gtest.h>

namespace meshgate::auth {
namespace {

TEST(Base64UrlTest, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64UrlEncode(""), "");
  EXPECT_EQ(base64UrlEncode("f"), "Zg");
  EXPECT_EQ(base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64UrlEncode("foobar"), "Zm9vYmFy");
}

TEST(Base64UrlTest, UsesUrlAlphabetForLastTwoSymbols) {
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64UrlDecode("-_8"), std::string("\xfb\xff"));
}

TEST(Base64UrlTest, RoundTripsEveryByteAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes.push_back(static_cast<char>(i));
    const auto decoded = base64UrlDecode(base64UrlEncode(bytes));
    ASSERT_TRUE(decoded.has_value()) << i;
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64UrlTest, DecodesEmptyText) {
  EXPECT_EQ(base64UrlDecode(""), std::string());
}

TEST(Base64UrlTest, RejectsPadding) {
  EXPECT_FALSE(base64UrlDecode("Zg==").has_value());
  EXPECT_FALSE(base64UrlDecode("Zm8=").has_value());
  EXPECT_FALSE(base64UrlDecode("Zg=").has_value());
}

TEST(Base64UrlTest, RejectsStandardAlphabetAndOtherCharacters) {
  EXPECT_FALSE(base64UrlDecode("+/8").has_value());
  EXPECT_FALSE(base64UrlDecode("Zm9 v").has_value());
  EXPECT_FALSE(base64UrlDecode("Zm9v\n").has_value());
  EXPECT_FALSE(base64UrlDecode(std::string_view("Zm\0v", 4)).has_value());
  EXPECT_FALSE(base64UrlDecode("Zm9.").has_value());
  EXPECT_FALSE(base64UrlDecode("Zm9\xc3\xa9").has_value());
}

TEST(Base64UrlTest, RejectsLengthOneModuloFour) {
  EXPECT_FALSE(base64UrlDecode("Z").has_value());
  EXPECT_FALSE(base64UrlDecode("Zm9vY").has_value());
}

TEST(Base64UrlTest, RejectsNonZeroTrailingBits) {
  // "Zg" is the canonical form of "f"; "Zh".."Zv" carry the same byte with stray low bits.
  EXPECT_TRUE(base64UrlDecode("Zg").has_value());
  EXPECT_FALSE(base64UrlDecode("Zh").has_value());
  EXPECT_FALSE(base64UrlDecode("Zv").has_value());
  // "Zm8" is the canonical form of "fo"; "Zm9" sets one of its two unused bits.
  EXPECT_TRUE(base64UrlDecode("Zm8").has_value());
  EXPECT_FALSE(base64UrlDecode("Zm9").has_value());
  EXPECT_FALSE(base64UrlDecode("Zm-").has_value());
}

}  // namespace
}  // namespace meshgate::auth
