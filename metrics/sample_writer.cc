// Collector samples grouped into families, with the checks that keep the exposition parseable.
#include "metrics/sample_writer.h"

#include <spdlog/spdlog.h>

#include "metrics/metric_name.h"

namespace metrics {

MetricFamilySnapshot* SampleWriter::familyFor(std::string_view name, std::string_view help,
                                              MetricType type, const Labels& labels) {
  if (!isValidMetricName(name)) {
    spdlog::warn("metrics: collector wrote invalid metric name '{}'; sample dropped", name);
    return nullptr;
  }
  for (const Label& label : labels) {
    const bool reserved = type == MetricType::kHistogram && label.name == "le";
    if (!isValidLabelName(label.name) || reserved) {
      spdlog::warn("metrics: collector wrote invalid label name '{}' on {}; sample dropped",
                   label.name, name);
      return nullptr;
    }
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_
             .emplace(std::string(name),
                      MetricFamilySnapshot{std::string(name), std::string(help), type, {}})
             .first;
  } else if (it->second.type != type) {
    spdlog::warn("metrics: collector wrote {} as a {} after a {}; sample dropped", name,
                 metricTypeName(type), metricTypeName(it->second.type));
    return nullptr;
  }
  return &it->second;
}

void SampleWriter::counter(std::string_view name, std::string_view help, Labels labels,
                           double value) {
  if (auto* family = familyFor(name, help, MetricType::kCounter, labels)) {
    family->samples.push_back(Sample{std::move(labels), value, {}});
  }
}

void SampleWriter::gauge(std::string_view name, std::string_view help, Labels labels,
                         double value) {
  if (auto* family = familyFor(name, help, MetricType::kGauge, labels)) {
    family->samples.push_back(Sample{std::move(labels), value, {}});
  }
}

void SampleWriter::histogram(std::string_view name, std::string_view help, Labels labels,
                             HistogramValue value) {
  if (value.cumulativeCounts.size() != value.upperBounds.size()) {
    spdlog::warn("metrics: collector wrote histogram {} with {} bounds and {} counts; dropped",
                 name, value.upperBounds.size(), value.cumulativeCounts.size());
    return;
  }
  if (auto* family = familyFor(name, help, MetricType::kHistogram, labels)) {
    family->samples.push_back(Sample{std::move(labels), 0, std::move(value)});
  }
}

std::map<std::string, MetricFamilySnapshot, std::less<>> SampleWriter::take() {
  return std::exchange(families_, {});
}

}  // namespace metrics
