// Histogram is one series of a histogram family: observations (reconcile durations, admission
// latencies) counted into fixed buckets chosen when the family is registered, plus their sum.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "metrics/metric_snapshot.h"

namespace metrics {

/**
 * Counts observations per bucket. observe() is a binary search and two atomic adds, without a
 * lock; all methods are thread-safe. Owned by its family, which lives as long as the Registry.
 */
class Histogram {
 public:
  // upperBounds must be valid (see validBuckets); +Inf is implicit.
  explicit Histogram(std::vector<double> upperBounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts value in the first bucket whose upper bound is >= value (Prometheus' `le`); values
  // above every bound, and NaN, land in +Inf only.
  void observe(double value);

  // Buckets are read one by one, so a snapshot taken during observe() calls may not include all of
  // them, but its cumulative counts are always non-decreasing and end at count.
  HistogramValue snapshot() const;

  const std::vector<double>& upperBounds() const { return upperBounds_; }

  // Prometheus' default buckets, 5 ms .. 10 s: request and reconcile latencies in seconds.
  static std::vector<double> defaultBuckets();
  // count bounds start, start*factor, start*factor^2, ... (start > 0, factor > 1, count >= 1).
  static std::vector<double> exponentialBuckets(double start, double factor, int count);
  // count bounds start, start+width, ... (width > 0, count >= 1).
  static std::vector<double> linearBuckets(double start, double width, int count);
  // Non-empty, finite and strictly increasing.
  static bool validBuckets(const std::vector<double>& upperBounds);

 private:
  const std::vector<double> upperBounds_;
  // One per bound plus +Inf; not cumulative, so observe() touches a single bucket.
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

}  // namespace metrics
