// Bind address parsing.
#include "metrics/bind_address.h"

#include <gtest/gtest.h>

namespace metrics {
namespace {

TEST(BindAddressTest, AcceptsIpv4Ipv6AndBarePort) {
  auto v4 = parseBindAddress("127.0.0.1:8080");
  ASSERT_TRUE(v4) << v4.error();
  EXPECT_EQ(v4->address().to_string(), "127.0.0.1");
  EXPECT_EQ(v4->port(), 8080);

  auto v6 = parseBindAddress("[::1]:0");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_EQ(v6->port(), 0);

  auto any = parseBindAddress(":8081");
  ASSERT_TRUE(any) << any.error();
  EXPECT_EQ(any->address().to_string(), "0.0.0.0");
  EXPECT_EQ(any->port(), 8081);
}

TEST(BindAddressTest, RejectsMalformedAddresses) {
  for (const char* bad : {"8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
                          "127.0.0.1:-1", "localhost:8080", "::1:8080", "[::1:8080", "1.2.3:80"}) {
    auto parsed = parseBindAddress(bad);
    EXPECT_FALSE(parsed) << bad;
    if (!parsed) {
      EXPECT_NE(parsed.error().find(bad), std::string::npos) << parsed.error();
    }
  }
}

}  // namespace
}  // namespace metrics
