// QueueMetrics records what a work queue does — depth, adds, retries, how long keys wait and how
// long workers hold them — so the operator's Prometheus exporter can print workqueue_* series per
// queue name. WorkQueue feeds it; the exporter reads snapshot().
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kube/clock.h"

namespace kube {

// A histogram as Prometheus exposes it: cumulative counts per upper bound (`le`), plus +Inf
// (== count), the number of observations and their sum.
struct HistogramSnapshot {
  std::vector<double> upperBoundsSeconds;
  std::vector<std::uint64_t> cumulativeCounts;  // same length as upperBoundsSeconds
  std::uint64_t count = 0;
  double sumSeconds = 0;
};

struct QueueMetricsSnapshot {
  std::string name;
  std::int64_t depth = 0;       // keys added and not yet handed to a worker
  std::uint64_t addsTotal = 0;  // adds that were not collapsed into a pending duplicate
  std::uint64_t retriesTotal = 0;
  HistogramSnapshot queueDurationSeconds;     // add -> get
  HistogramSnapshot workDurationSeconds;      // get -> done
  double unfinishedWorkSeconds = 0;           // summed age of the keys workers hold now
  double longestRunningProcessorSeconds = 0;  // age of the oldest key a worker holds now
};

/**
 * Per-queue counters. The record* methods are called by the queue (under its own lock, in the
 * order the queue observes events); snapshot() may be called from any thread. Thread-safe.
 */
class QueueMetrics {
 public:
  // Bucket upper bounds in seconds: 10 ns .. 10 s by powers of ten, as client-go's workqueue.
  static constexpr std::array<double, 10> kBucketBoundsSeconds = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4,
                                                                  1e-3, 1e-2, 1e-1, 1,    10};

  // clock must outlive the metrics.
  QueueMetrics(std::string name, Clock& clock);

  const std::string& name() const { return name_; }

  // A new pending key (not a duplicate of one already pending).
  void recordAdd(const std::string& key);
  // A worker took key.
  void recordGet(const std::string& key);
  // The worker finished key.
  void recordDone(const std::string& key);
  // A delayed or rate-limited re-add.
  void recordRetry();

  QueueMetricsSnapshot snapshot() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBucketBoundsSeconds.size()> bucketCounts{};  // not cumulative
    std::uint64_t count = 0;
    double sum = 0;
    void observe(double seconds);
    HistogramSnapshot snapshot() const;
  };

  const std::string name_;
  Clock& clock_;
  mutable std::mutex mutex_;
  // All guarded by mutex_.
  std::int64_t depth_ = 0;
  std::uint64_t addsTotal_ = 0;
  std::uint64_t retriesTotal_ = 0;
  Histogram queueDuration_;
  Histogram workDuration_;
  std::unordered_map<std::string, Clock::TimePoint> addedAt_;
  std::unordered_map<std::string, Clock::TimePoint> processingSince_;
};
using QueueMetricsSharedPtr = std::shared_ptr<QueueMetrics>;

}  // namespace kube
