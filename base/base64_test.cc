// base64 round trips and refusal of malformed text.
#include "base/base64.h"

#include <vector>

#include <gtest/gtest.h>

namespace meshgate {
namespace {

TEST(Base64Test, RoundTripsEveryPaddingLength) {
  for (const std::string& text :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto decoded = base64Decode(base64Encode(text));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, text);
  }
  EXPECT_EQ(base64Encode("meshgate"), "bWVzaGdhdGU=");
}

TEST(Base64Test, IgnoresWhitespaceAndRejectsGarbage) {
  EXPECT_EQ(base64Decode("bWVz\naGdh dGU=").value_or("?"), "meshgate");
  EXPECT_FALSE(base64Decode("abc").has_value());
  EXPECT_FALSE(base64Decode("!!!!").has_value());
}

}  // namespace
}  // namespace meshgate
