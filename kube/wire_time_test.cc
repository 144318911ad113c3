// Wire time formats.
#include "kube/wire_time.h"

#include <gtest/gtest.h>

namespace kube {
namespace {

TEST(WireTimeTest, FormatsSecondsAndMicroseconds) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1767323045123456));
  EXPECT_EQ(formatTime(t), "2026-01-02T03:04:05Z");
  EXPECT_EQ(formatMicroTime(t), "2026-01-02T03:04:05.123456Z");
}

TEST(WireTimeTest, FloorsTimesBeforeTheEpoch) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(-1));
  EXPECT_EQ(formatMicroTime(t), "1969-12-31T23:59:59.999999Z");
}

TEST(WireTimeTest, ParsesWhatItFormatsAndRefusesTheRest) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::microseconds(1767323045123456));
  EXPECT_EQ(parseTime(formatMicroTime(t)), t);
  EXPECT_EQ(parseTime(formatTime(t)), std::chrono::time_point_cast<std::chrono::seconds>(t));
  EXPECT_EQ(parseTime("2026-01-02T03:04:05+01:00"), std::nullopt);
  EXPECT_EQ(parseTime("2026-13-02T03:04:05Z"), std::nullopt);
  EXPECT_EQ(parseTime("2026-01-02T03:04:05.Z"), std::nullopt);
}

}  // namespace
}  // namespace kube
