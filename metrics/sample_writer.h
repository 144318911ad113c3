// SampleWriter is what a collector writes into at scrape time: values that other code already keeps
// (a work queue's depth, seconds until the earliest certificate expiry, a REST client's request
// counts by verb) reported as samples, without mirroring them into counters and gauges.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metric_snapshot.h"

namespace metrics {

/**
 * Groups the samples a collector writes into families by metric name. The first write to a name
 * fixes its help and type. A sample with an invalid metric or label name, a reserved `le` label on
 * a histogram, or a type other than the one its name was first written with is dropped with a
 * warning: a collector's bug costs its own series, never the whole scrape.
 *
 * Each collector gets its own writer for one scrape; not thread-safe, and not to be kept.
 */
class SampleWriter {
 public:
  void counter(std::string_view name, std::string_view help, Labels labels, double value);
  void gauge(std::string_view name, std::string_view help, Labels labels, double value);
  // value.cumulativeCounts must match value.upperBounds in length.
  void histogram(std::string_view name, std::string_view help, Labels labels, HistogramValue value);

  // The families written so far, by name; leaves the writer empty.
  std::map<std::string, MetricFamilySnapshot, std::less<>> take();

 private:
  // The family name's samples go into, or nullptr when the sample must be dropped.
  MetricFamilySnapshot* familyFor(std::string_view name, std::string_view help, MetricType type,
                                  const Labels& labels);

  std::map<std::string, MetricFamilySnapshot, std::less<>> families_;
};

}  // namespace metrics
