// Validation of metric and label names against the Prometheus data model. The registry rejects
// invalid names when a family is registered; SampleWriter drops samples a collector writes with
// them, so one bad name never produces an exposition Prometheus refuses to parse.
#pragma once

#include <string_view>

namespace metrics {

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool isValidMetricName(std::string_view name);

// [a-zA-Z_][a-zA-Z0-9_]*, not starting with `__` (reserved for Prometheus itself). `le` is valid
// here; families that add it themselves (histograms) reject it separately.
bool isValidLabelName(std::string_view name);

}  // namespace metrics
