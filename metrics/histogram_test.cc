// Histogram bucketing and bucket layouts.
#include "metrics/histogram.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace metrics {
namespace {

TEST(HistogramTest, ObservationOnABoundCountsInThatBucket) {
  Histogram histogram({1, 2, 5});
  histogram.observe(1);    // le="1"
  histogram.observe(1.5);  // le="2"
  histogram.observe(2);    // le="2"
  histogram.observe(0);    // le="1"
  histogram.observe(7);    // +Inf only

  const HistogramValue value = histogram.snapshot();
  EXPECT_EQ(value.upperBounds, (std::vector<double>{1, 2, 5}));
  EXPECT_EQ(value.cumulativeCounts, (std::vector<std::uint64_t>{2, 4, 4}));
  EXPECT_EQ(value.count, 5u);
  EXPECT_DOUBLE_EQ(value.sum, 11.5);
}

TEST(HistogramTest, NaNCountsOnlyInInf) {
  Histogram histogram({1});
  histogram.observe(std::numeric_limits<double>::quiet_NaN());
  const HistogramValue value = histogram.snapshot();
  EXPECT_EQ(value.cumulativeCounts, (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(value.count, 1u);
}

TEST(HistogramTest, EmptyHistogramHasZeroCounts) {
  const HistogramValue value = Histogram({0.1, 1}).snapshot();
  EXPECT_EQ(value.cumulativeCounts, (std::vector<std::uint64_t>{0, 0}));
  EXPECT_EQ(value.count, 0u);
  EXPECT_EQ(value.sum, 0);
}

TEST(HistogramTest, BucketLayouts) {
  EXPECT_EQ(Histogram::exponentialBuckets(0.25, 2, 4), (std::vector<double>{0.25, 0.5, 1, 2}));
  EXPECT_EQ(Histogram::linearBuckets(1, 2, 3), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(Histogram::defaultBuckets().front(), 0.005);
  EXPECT_EQ(Histogram::defaultBuckets().back(), 10);
  EXPECT_THROW(Histogram::exponentialBuckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW(Histogram::linearBuckets(0, 1, 0), std::invalid_argument);
}

TEST(HistogramTest, BucketsMustBeFiniteAndStrictlyIncreasing) {
  EXPECT_TRUE(Histogram::validBuckets({-1, 0, 1}));
  EXPECT_TRUE(Histogram::validBuckets(Histogram::defaultBuckets()));
  EXPECT_FALSE(Histogram::validBuckets({}));
  EXPECT_FALSE(Histogram::validBuckets({1, 1}));
  EXPECT_FALSE(Histogram::validBuckets({2, 1}));
  EXPECT_FALSE(Histogram::validBuckets({1, std::numeric_limits<double>::infinity()}));
  EXPECT_FALSE(Histogram::validBuckets({std::nan("")}));
}

}  // namespace
}  // namespace metrics
