// Passive outlier detection, driven by a manual clock: the error threshold, resets by success,
// ejection length and its growth and decay, the ejection cap, and reports from several threads.
#include "dataplane/upstream/outlier_detector.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace meshgate::dp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

void reportErrors(OutlierDetector& detector, size_t endpoint, int count) {
  for (int i = 0; i < count; i++)
    detector.reportError(endpoint);
}

TEST(OutlierDetectorTest, FiveErrorsInARowEject) {
  ManualClock clock;
  OutlierDetector detector({}, 3, clock);
  reportErrors(detector, 1, 4);
  EXPECT_FALSE(detector.ejected(1));
  detector.reportError(1);
  EXPECT_TRUE(detector.ejected(1));
  EXPECT_FALSE(detector.ejected(0));
  EXPECT_EQ(detector.ejectedCount(), 1u);
}

TEST(OutlierDetectorTest, ASuccessResetsTheRun) {
  ManualClock clock;
  OutlierDetector detector({}, 3, clock);
  reportErrors(detector, 0, 4);
  detector.reportSuccess(0);
  EXPECT_EQ(detector.stats(0).consecutiveErrors, 0u);
  reportErrors(detector, 0, 4);
  EXPECT_FALSE(detector.ejected(0));
  detector.reportError(0);
  EXPECT_TRUE(detector.ejected(0));
}

TEST(OutlierDetectorTest, EjectedForTheBaseTimeThenBack) {
  ManualClock clock;
  OutlierDetector detector({}, 3, clock);
  reportErrors(detector, 2, 5);
  EXPECT_EQ(detector.stats(2).ejectedFor, seconds(30));
  clock.advance(seconds(30) - milliseconds(1));
  EXPECT_TRUE(detector.ejected(2));
  clock.advance(milliseconds(1));
  EXPECT_FALSE(detector.ejected(2));
  EXPECT_EQ(detector.ejectedCount(), 0u);
  EXPECT_EQ(detector.stats(2).timesEjected, 1u);
}

TEST(OutlierDetectorTest, ErrorsWhileEjectedDoNotCount) {
  ManualClock clock;
  OutlierDetector detector({}, 3, clock);
  reportErrors(detector, 0, 5);
  reportErrors(detector, 0, 4);  // requests that were already in flight
  clock.advance(seconds(30));
  detector.reportError(0);
  EXPECT_FALSE(detector.ejected(0));
  EXPECT_EQ(detector.stats(0).consecutiveErrors, 1u);
}

TEST(OutlierDetectorTest, RepeatedEjectionsLastLongerUpToTheCap) {
  ManualClock clock;
  OutlierDetector detector({}, 3, clock);
  for (const int expected : {30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300}) {
    reportErrors(detector, 0, 5);
    EXPECT_EQ(detector.stats(0).ejectedFor, seconds(expected));
    clock.advance(seconds(expected));
    EXPECT_FALSE(detector.ejected(0));
  }
  EXPECT_EQ(detector.stats(0).timesEjected, 11u);
}

TEST(OutlierDetectorTest, TimeInRotationShortensTheNextEjection) {
  ManualClock clock;
  OutlierDetector detector({}, 3, clock);
  reportErrors(detector, 0, 5);
  clock.advance(seconds(30));
  reportErrors(detector, 0, 5);
  clock.advance(seconds(60));  // second ejection: 2 × base
  // One whole interval (10 s) back in rotation takes one step off: 2 − 1 + 1.
  clock.advance(seconds(15));
  reportErrors(detector, 0, 5);
  EXPECT_EQ(detector.stats(0).ejectedFor, seconds(60));
  clock.advance(seconds(60));
  // Long enough in rotation and the next ejection is back to the base.
  clock.advance(seconds(100));
  reportErrors(detector, 0, 5);
  EXPECT_EQ(detector.stats(0).ejectedFor, seconds(30));
}

TEST(OutlierDetectorTest, MaxEjectionPercentCapsEjectionsAtOnce) {
  ManualClock clock;
  OutlierConfig config;
  config.maxEjectionPercent = 20;
  OutlierDetector detector(config, 10, clock);
  EXPECT_EQ(detector.maxEjected(), 2u);
  for (size_t endpoint = 0; endpoint < 5; endpoint++)
    reportErrors(detector, endpoint, 5);
  EXPECT_EQ(detector.ejectedCount(), 2u);
  EXPECT_TRUE(detector.ejected(0));
  EXPECT_TRUE(detector.ejected(1));
  EXPECT_FALSE(detector.ejected(2));
  // The refused run is used up; once the ejections end, a new run ejects.
  clock.advance(seconds(30));
  EXPECT_EQ(detector.ejectedCount(), 0u);
  reportErrors(detector, 2, 4);
  EXPECT_FALSE(detector.ejected(2));
  detector.reportError(2);
  EXPECT_TRUE(detector.ejected(2));
}

TEST(OutlierDetectorTest, AtLeastOneMayBeEjectedUnlessThePercentIsZero) {
  ManualClock clock;
  OutlierDetector small({}, 3, clock);  // 10% of 3 rounds down to 0
  EXPECT_EQ(small.maxEjected(), 1u);
  reportErrors(small, 0, 5);
  reportErrors(small, 1, 5);
  EXPECT_EQ(small.ejectedCount(), 1u);

  OutlierConfig off;
  off.maxEjectionPercent = 0;
  OutlierDetector disabled(off, 3, clock);
  reportErrors(disabled, 0, 50);
  EXPECT_EQ(disabled.ejectedCount(), 0u);
}

TEST(OutlierDetectorTest, OutOfRangeEndpointsAreIgnored) {
  ManualClock clock;
  OutlierDetector detector({}, 2, clock);
  reportErrors(detector, 7, 10);
  detector.reportSuccess(7);
  EXPECT_FALSE(detector.ejected(7));
  EXPECT_EQ(detector.ejectedCount(), 0u);
}

// Four workers hammer five endpoints, with successes mixed in and then errors only, so every
// endpoint surely reaches its threshold; the cap (20% of 5 → 1) lets exactly one be ejected, once,
// as no time passes.
TEST(OutlierDetectorTest, ConcurrentReportsRespectTheCap) {
  ManualClock clock;
  OutlierConfig config;
  config.maxEjectionPercent = 20;
  OutlierDetector detector(config, 5, clock);
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; w++) {
    workers.emplace_back([&detector, w] {
      for (int i = 0; i < 20000; i++) {
        const size_t endpoint = static_cast<size_t>(i + w) % 5;
        if (i < 10000 && i % 7 == 0) {
          detector.reportSuccess(endpoint);
        } else {
          detector.reportError(endpoint);
        }
        (void)detector.ejected(endpoint);
      }
    });
  }
  for (auto& worker : workers)
    worker.join();
  EXPECT_EQ(detector.ejectedCount(), 1u);
  uint64_t ejections = 0;
  for (size_t endpoint = 0; endpoint < 5; endpoint++)
    ejections += detector.stats(endpoint).timesEjected;
  EXPECT_EQ(ejections, 1u);
}

}  // namespace
}  // namespace meshgate::dp
