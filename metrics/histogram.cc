// Bucketed observations and the usual bucket layouts.
#include "metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace metrics {

Histogram::Histogram(std::vector<double> upperBounds)
    : upperBounds_(std::move(upperBounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(upperBounds_.size() + 1)) {}

void Histogram::observe(double value) {
  // The first bound >= value is the bucket (`le`). NaN compares false with every bound, which
  // would put it in the first bucket; count it in +Inf only, as above every bound.
  size_t index = upperBounds_.size();
  if (!std::isnan(value)) {
    const auto it = std::lower_bound(upperBounds_.begin(), upperBounds_.end(), value);
    index = static_cast<size_t>(it - upperBounds_.begin());
  }
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

HistogramValue Histogram::snapshot() const {
  HistogramValue out;
  out.upperBounds = upperBounds_;
  out.cumulativeCounts.reserve(upperBounds_.size());
  std::uint64_t cumulative = 0;
  for (size_t i = 0; i < upperBounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out.cumulativeCounts.push_back(cumulative);
  }
  // The count is derived from the buckets rather than kept apart, so +Inf == _count holds even
  // when the snapshot races with observe().
  out.count = cumulative + buckets_[upperBounds_.size()].load(std::memory_order_relaxed);
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

std::vector<double> Histogram::defaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> Histogram::exponentialBuckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1) {
    throw std::invalid_argument("exponentialBuckets needs start > 0, factor > 1, count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    bounds.push_back(start);
    start *= factor;
  }
  return bounds;
}

std::vector<double> Histogram::linearBuckets(double start, double width, int count) {
  if (!(width > 0) || count < 1) {
    throw std::invalid_argument("linearBuckets needs width > 0, count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    // Multiplying rather than accumulating keeps the rounding error from growing with i.
    bounds.push_back(start + width * i);
  }
  return bounds;
}

bool Histogram::validBuckets(const std::vector<double>& upperBounds) {
  if (upperBounds.empty()) return false;
  for (size_t i = 0; i < upperBounds.size(); ++i) {
    if (!std::isfinite(upperBounds[i])) return false;
    if (i > 0 && !(upperBounds[i - 1] < upperBounds[i])) return false;
  }
  return true;
}

}  // namespace metrics
