// Tests for api/duration.h: the Gateway API duration format of docs/API.md.
#include "api/duration.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <re2/re2.h>

namespace meshgate::api {
namespace {

using std::chrono::milliseconds;

std::optional<std::int64_t> parseMs(std::string_view text) {
  auto d = Duration::parse(text);
  if (!d) return std::nullopt;
  return d->value().count();
}

TEST(DurationTest, ParsesEachUnit) {
  EXPECT_EQ(parseMs("500ms"), 500);
  EXPECT_EQ(parseMs("10s"), 10000);
  EXPECT_EQ(parseMs("2m"), 120000);
  EXPECT_EQ(parseMs("1h"), 3600000);
  EXPECT_EQ(parseMs("0s"), 0);
}

TEST(DurationTest, SumsUpToFourGroups) {
  EXPECT_EQ(parseMs("1m30s"), 90000);
  EXPECT_EQ(parseMs("1h2m3s"), 3723000);
  EXPECT_EQ(parseMs("1h2m3s4ms"), 3723004);
}

TEST(DurationTest, AcceptsUnitsInAnyOrderAndRepeatedBecauseTheRegexDoes) {
  EXPECT_EQ(parseMs("30s1m"), 90000);
  EXPECT_EQ(parseMs("1s1s"), 2000);
  EXPECT_EQ(parseMs("1ms1h"), 3600001);
}

TEST(DurationTest, AcceptsFiveDigitsAndLeadingZeros) {
  EXPECT_EQ(parseMs("99999ms"), 99999);
  EXPECT_EQ(parseMs("00010s"), 10000);
  EXPECT_EQ(parseMs("99999h99999h99999h99999h"), 4LL * 99999 * 3600000);
}

TEST(DurationTest, RejectsWhatTheFormatDoesNotAllow) {
  for (const char* bad :
       {"",   "0", "10", "1.5s",     "-1s",        "+1s",  "1 s",    " 1s",  "1s ",  "1S", "1us",
        "1d", "s", "ms", "100000ms", "1s2s3s4s5s", "1m30", "1h 30m", "PT1S", "1mss", "1sm"}) {
    EXPECT_FALSE(Duration::parse(bad).has_value()) << bad;
  }
}

TEST(DurationTest, ErrorTextSaysWhatIsWrong) {
  std::string error;
  EXPECT_FALSE(Duration::parse("", &error));
  EXPECT_EQ(error, "empty duration");
  EXPECT_FALSE(Duration::parse("10", &error));
  EXPECT_EQ(error, "missing unit after the number (units h, m, s, ms)");
  EXPECT_FALSE(Duration::parse("1.5s", &error));
  EXPECT_EQ(error, "unknown unit at offset 1 (units h, m, s, ms)");
  EXPECT_FALSE(Duration::parse("123456s", &error));
  EXPECT_EQ(error, "a number has more than 5 digits");
  EXPECT_FALSE(Duration::parse("1s1s1s1s1s", &error));
  EXPECT_EQ(error, "more than 4 number-unit groups");
  EXPECT_FALSE(Duration::parse("s", &error));
  EXPECT_EQ(error, "expected a digit at offset 0");
}

TEST(DurationTest, FormatsCanonically) {
  EXPECT_EQ(Duration(milliseconds(90000)).format(), "1m30s");
  EXPECT_EQ(Duration(milliseconds(500)).format(), "500ms");
  EXPECT_EQ(Duration(milliseconds(0)).format(), "0s");
  EXPECT_EQ(Duration(milliseconds(60000)).format(), "1m");
  EXPECT_EQ(Duration(milliseconds(3600000)).format(), "1h");
  EXPECT_EQ(Duration(milliseconds(1500)).format(), "1s500ms");
  EXPECT_EQ(Duration(milliseconds(3723004)).format(), "1h2m3s4ms");
  EXPECT_EQ(Duration::parse("90s")->format(), "1m30s");
  EXPECT_EQ(Duration::parse("30s1m")->format(), "1m30s");
}

TEST(DurationTest, FormattedTextParsesBackToTheSameValue) {
  for (std::int64_t ms : {0LL, 1LL, 999LL, 1000LL, 59999LL, 60000LL, 3599999LL, 86400000LL,
                          99999LL * 3600000 + 59 * 60000 + 59 * 1000 + 999}) {
    const Duration d{milliseconds(ms)};
    const auto back = Duration::parse(d.format());
    ASSERT_TRUE(back.has_value()) << d.format();
    EXPECT_EQ(*back, d);
  }
}

TEST(DurationTest, ComparesByValue) {
  EXPECT_LT(*Duration::parse("999ms"), *Duration::parse("1s"));
  EXPECT_EQ(*Duration::parse("60s"), *Duration::parse("1m"));
}

// Enumerates short strings over an alphabet that exercises every branch of the format and checks
// the parser against the contract's regex itself.
TEST(DurationTest, AcceptsExactlyWhatTheContractRegexAccepts) {
  const RE2 contract("^([0-9]{1,5}(h|m|s|ms)){1,4}$");
  ASSERT_TRUE(contract.ok());
  std::size_t checked = 0;
  auto check = [&](const std::string& s) {
    ++checked;
    EXPECT_EQ(Duration::parse(s).has_value(), RE2::FullMatch(s, contract)) << '"' << s << '"';
  };
  const std::string wide = "019hmsx.";
  std::vector<std::string> frontier = {""};
  for (int len = 1; len <= 5; ++len) {
    std::vector<std::string> next;
    for (const auto& prefix : frontier) {
      for (char c : wide) {
        next.push_back(prefix + c);
        check(next.back());
      }
    }
    frontier = std::move(next);
  }
  // Longer strings over a narrower alphabet reach the digit and group limits.
  const std::string narrow = "1ms";
  frontier = {""};
  for (int len = 1; len <= 10; ++len) {
    std::vector<std::string> next;
    for (const auto& prefix : frontier) {
      for (char c : narrow) {
        next.push_back(prefix + c);
        if (len > 5) check(next.back());
      }
    }
    frontier = std::move(next);
  }
  EXPECT_GT(checked, 30000u);
}

}  // namespace
}  // namespace meshgate::api
