// Tests for the IP address SAN conversions.
#include "pki/ip_address.h"

#include <gtest/gtest.h>

namespace pki {
namespace {

TEST(IpAddressTest, Ipv4IsFourBytes) {
  EXPECT_EQ(ipAddressBytes("10.0.0.7"), std::string("\x0a\x00\x00\x07", 4));
}

TEST(IpAddressTest, Ipv6IsSixteenBytesAndCanonicalised) {
  EXPECT_EQ(ipAddressBytes("fd00::1")->size(), 16u);
  EXPECT_EQ(canonicalIpAddress("FD00:0:0::0001"), "fd00::1");
  EXPECT_EQ(canonicalIpAddress("::1"), "::1");
}

TEST(IpAddressTest, NonAddressesAreRejected) {
  EXPECT_FALSE(ipAddressBytes(""));
  EXPECT_FALSE(ipAddressBytes("10.0.0"));
  EXPECT_FALSE(ipAddressBytes("10.0.0.256"));
  EXPECT_FALSE(ipAddressBytes("example.com"));
  EXPECT_FALSE(ipAddressBytes(std::string("10.0.0.1\0junk", 13)));
  EXPECT_FALSE(ipAddressText("abc"));
}

}  // namespace
}  // namespace pki
