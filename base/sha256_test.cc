// sha256Hex: the known digest of "abc", cut to the digits asked for.
#include "base/sha256.h"

#include <gtest/gtest.h>

namespace meshgate {
namespace {

TEST(Sha256HexTest, IsTheDigestsLeadingHexDigits) {
  EXPECT_EQ(sha256Hex("abc", 64),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex("abc", 12), "ba7816bf8f01");
  EXPECT_EQ(sha256Hex("abc", 7), "ba7816b");
  EXPECT_NE(sha256Hex("abd", 12), sha256Hex("abc", 12));
}

}  // namespace
}  // namespace meshgate
