// QueueMetrics: timestamps per key between add/get/done, folded into fixed-bucket histograms.
#include "kube/queue_metrics.h"

#include <algorithm>

namespace kube {

namespace {
double secondsBetween(Clock::TimePoint from, Clock::TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}
}  // namespace

void QueueMetrics::Histogram::observe(double seconds) {
  ++count;
  sum += seconds;
  // First bucket whose bound is >= the value (Prometheus `le`); beyond the last is +Inf only.
  auto it = std::lower_bound(kBucketBoundsSeconds.begin(), kBucketBoundsSeconds.end(), seconds);
  if (it != kBucketBoundsSeconds.end()) ++bucketCounts[it - kBucketBoundsSeconds.begin()];
}

HistogramSnapshot QueueMetrics::Histogram::snapshot() const {
  HistogramSnapshot out;
  out.upperBoundsSeconds.assign(kBucketBoundsSeconds.begin(), kBucketBoundsSeconds.end());
  std::uint64_t running = 0;
  for (std::uint64_t n : bucketCounts) {
    running += n;
    out.cumulativeCounts.push_back(running);
  }
  out.count = count;
  out.sumSeconds = sum;
  return out;
}

QueueMetrics::QueueMetrics(std::string name, Clock& clock)
    : name_(std::move(name)), clock_(clock) {}

void QueueMetrics::recordAdd(const std::string& key) {
  const Clock::TimePoint now = clock_.now();
  std::lock_guard<std::mutex> guard(mutex_);
  ++depth_;
  ++addsTotal_;
  // The latency of a key counts from its first pending add.
  addedAt_.try_emplace(key, now);
}

void QueueMetrics::recordGet(const std::string& key) {
  const Clock::TimePoint now = clock_.now();
  std::lock_guard<std::mutex> guard(mutex_);
  --depth_;
  if (auto it = addedAt_.find(key); it != addedAt_.end()) {
    queueDuration_.observe(secondsBetween(it->second, now));
    addedAt_.erase(it);
  }
  processingSince_[key] = now;
}

void QueueMetrics::recordDone(const std::string& key) {
  const Clock::TimePoint now = clock_.now();
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto it = processingSince_.find(key); it != processingSince_.end()) {
    workDuration_.observe(secondsBetween(it->second, now));
    processingSince_.erase(it);
  }
}

void QueueMetrics::recordRetry() {
  std::lock_guard<std::mutex> guard(mutex_);
  ++retriesTotal_;
}

QueueMetricsSnapshot QueueMetrics::snapshot() const {
  const Clock::TimePoint now = clock_.now();
  std::lock_guard<std::mutex> guard(mutex_);
  QueueMetricsSnapshot out;
  out.name = name_;
  out.depth = depth_;
  out.addsTotal = addsTotal_;
  out.retriesTotal = retriesTotal_;
  out.queueDurationSeconds = queueDuration_.snapshot();
  out.workDurationSeconds = workDuration_.snapshot();
  for (const auto& [key, since] : processingSince_) {
    const double age = secondsBetween(since, now);
    out.unfinishedWorkSeconds += age;
    out.longestRunningProcessorSeconds = std::max(out.longestRunningProcessorSeconds, age);
  }
  return out;
}

}  // namespace kube
