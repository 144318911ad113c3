// Tests for api/value_rules.h: the shared value rules of docs/API.md.
#include "api/value_rules.h"

#include <string>

#include <gtest/gtest.h>

namespace meshgate::api {
namespace {

TEST(ValueRulesTest, DnsLabelFollowsRfc1123) {
  for (const char* ok : {"a", "pay", "pay-v2", "0", "9lives"})
    EXPECT_TRUE(isDnsLabel(ok)) << ok;
  for (const char* bad : {"", "-pay", "pay-", "Pay", "pay.v2", "pay_v2", "pay v2"}) {
    EXPECT_FALSE(isDnsLabel(bad)) << bad;
  }
  EXPECT_TRUE(isDnsLabel(std::string(63, 'a')));
  EXPECT_FALSE(isDnsLabel(std::string(64, 'a')));
}

TEST(ValueRulesTest, DnsSubdomainAllowsDotsUpTo253Characters) {
  for (const char* ok : {"a", "shop.example.com", "a-b.c-d", "pay-sa"}) {
    EXPECT_TRUE(isDnsSubdomain(ok)) << ok;
  }
  for (const char* bad : {"", ".a", "a.", "a..b", "A.b", "a_b", "*.a"}) {
    EXPECT_FALSE(isDnsSubdomain(bad)) << bad;
  }
  std::string longest;
  while (longest.size() < 253)
    longest += longest.empty() ? "a" : ".a";
  ASSERT_EQ(longest.size(), 253u);
  EXPECT_TRUE(isDnsSubdomain(longest));
  EXPECT_FALSE(isDnsSubdomain(longest + "a"));
}

TEST(ValueRulesTest, HostAllowsOnlyALeftmostWildcardLabel) {
  for (const char* ok : {"shop.example.com", "*.example.com", "*.a", "localhost"}) {
    EXPECT_TRUE(isHost(ok)) << ok;
  }
  for (const char* bad :
       {"", "*", "*.", "shop.*.example.com", "*shop.example.com", "*.*.example.com",
        "Shop.example.com", "shop.example.com.", "**.example.com", "shop.example.com:443"}) {
    EXPECT_FALSE(isHost(bad)) << bad;
  }
  EXPECT_FALSE(isHost("*." + std::string(252, 'a')));
}

TEST(ValueRulesTest, HeaderNameIsAnRfc7230Token) {
  for (const char* ok : {"x-api-key", "X_Custom", "!#$%&'*+.^_`|~-", "a"}) {
    EXPECT_TRUE(isHeaderName(ok)) << ok;
  }
  for (const char* bad : {"", "x api", "x:y", "x\"y", "caf\xc3\xa9", "(x)", "x/y"}) {
    EXPECT_FALSE(isHeaderName(bad)) << bad;
  }
  EXPECT_TRUE(isHeaderName(std::string(256, 'x')));
  EXPECT_FALSE(isHeaderName(std::string(257, 'x')));
}

TEST(ValueRulesTest, CookieNameUsesTheTokenCharset) {
  EXPECT_TRUE(isCookieName("session"));
  EXPECT_FALSE(isCookieName("session;id"));
  EXPECT_FALSE(isCookieName("a=b"));
  EXPECT_FALSE(isCookieName(""));
}

TEST(ValueRulesTest, IpAddressIsAnIpv4QuadOrAnIpv6Literal) {
  for (const char* ok : {"10.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "fd00::1", "2001:db8::21",
                         "::ffff:10.0.0.1"}) {
    EXPECT_TRUE(isIpAddress(ok)) << ok;
  }
  for (const char* bad :
       {"", "10.0.0.256", "10.0.0", "10.0.0.1.2", "[::1]", "fe80::1%eth0", " 10.0.0.1", "10.0.0.1 ",
        "vm1.example.com", "10.0.0.1/32", "0x0a.0.0.1", ":::1"}) {
    EXPECT_FALSE(isIpAddress(bad)) << bad;
  }
  EXPECT_FALSE(isIpAddress(std::string("10.0.0.1\0junk", 13)));
}

TEST(ValueRulesTest, LabelKeyHasAnOptionalSubdomainPrefix) {
  for (const char* ok : {"app", "app.kubernetes.io/name", "example.com/A_b.c-9", "a"}) {
    EXPECT_TRUE(isLabelKey(ok)) << ok;
  }
  for (const char* bad :
       {"", "-app", "app-", "/app", "a/", "a/b/c", "Example.com/app", "app name", "_app"}) {
    EXPECT_FALSE(isLabelKey(bad)) << bad;
  }
  EXPECT_TRUE(isLabelKey(std::string(63, 'a')));
  EXPECT_FALSE(isLabelKey(std::string(64, 'a')));
  EXPECT_FALSE(isLabelKey(std::string(254, 'a') + "/x"));
}

TEST(ValueRulesTest, LabelValueMayBeEmpty) {
  for (const char* ok : {"", "v1", "v1.2_rc-3", "A"})
    EXPECT_TRUE(isLabelValue(ok)) << ok;
  for (const char* bad : {"-v1", "v1-", "v1 beta", "a/b"})
    EXPECT_FALSE(isLabelValue(bad)) << bad;
  EXPECT_TRUE(isLabelValue(std::string(63, 'v')));
  EXPECT_FALSE(isLabelValue(std::string(64, 'v')));
}

TEST(ValueRulesTest, LabelMapReportsKeysOnTheMapAndValuesOnTheEntry) {
  ErrorList errors;
  validateLabelMap({{"-app", "pay"}, {"tier", "back end"}}, FieldPath("spec.selector"), errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].toString(),
            "spec.selector: Invalid value: \"-app\": must be a valid label key");
  EXPECT_EQ(errors[1].toString(),
            "spec.selector[tier]: Invalid value: \"back end\": must be a valid label value");
}

TEST(ValueRulesTest, DurationValidatorsUseTheContractMessages) {
  ErrorList errors;
  EXPECT_FALSE(validateDuration("10", FieldPath("t"), errors));
  EXPECT_TRUE(validateDuration("0s", FieldPath("t"), errors));
  EXPECT_FALSE(validatePositiveDuration("0s", FieldPath("p"), errors));
  EXPECT_TRUE(validatePositiveDuration("1ms", FieldPath("p"), errors));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].toString(),
            "t: Invalid value: \"10\": must be a duration like 500ms, 10s or 1m30s (units h, m, s, "
            "ms)");
  EXPECT_EQ(errors[1].toString(), "p: Invalid value: \"0s\": must be greater than 0");
}

TEST(ValueRulesTest, HttpMethodsAreTheNineOfTheContract) {
  EXPECT_EQ(httpMethods().size(), 9u);
  EXPECT_TRUE(isHttpMethod("PATCH"));
  EXPECT_FALSE(isHttpMethod("get"));
}

}  // namespace
}  // namespace meshgate::api
