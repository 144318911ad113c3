// The values of a registry at one scrape: families of samples, as Registry::collect() returns them
// and the text format renders them. Plain data, so collectors, the exposition format and tests can
// build and compare them without a registry.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// The word the exposition format uses after `# TYPE name`.
const char* metricTypeName(MetricType type);

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};
// In the order they are rendered.
using Labels = std::vector<Label>;

// A histogram as Prometheus exposes it: a cumulative count per upper bound (`le`) in increasing
// order, then +Inf, which is always `count`.
struct HistogramValue {
  std::vector<double> upperBounds;
  std::vector<std::uint64_t> cumulativeCounts;  // same length as upperBounds
  std::uint64_t count = 0;
  double sum = 0;
  friend bool operator==(const HistogramValue&, const HistogramValue&) = default;
};

struct Sample {
  Labels labels;
  double value = 0;          // counters and gauges
  HistogramValue histogram;  // histograms
  friend bool operator==(const Sample&, const Sample&) = default;
};

struct MetricFamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

}  // namespace metrics
