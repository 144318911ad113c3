// The Prometheus text exposition format, version 0.0.4: what GET /metrics returns for Prometheus
// to scrape. ProbeServer renders Registry::collect() with it; tests compare its output verbatim.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metrics/metric_snapshot.h"

namespace metrics {

// The Content-Type that announces this format to Prometheus.
inline constexpr std::string_view kTextFormatContentType =
    "text/plain; version=0.0.4; charset=utf-8";

/**
 * Renders families in the order given (Registry::collect() sorts them by name): `# HELP` and
 * `# TYPE` lines, then one line per sample; a histogram sample becomes cumulative `_bucket` lines
 * (with `le` after the sample's labels, ending with `+Inf`), `_sum` and `_count`. Label values
 * escape `\`, `"` and newline; help text escapes `\` and newline. Values use the shortest form that
 * reads back as the same double, and `+Inf`, `-Inf`, `NaN`. A pure function.
 */
std::string renderTextFormat(const std::vector<MetricFamilySnapshot>& families);

// A label value as it appears between the quotes.
std::string escapeLabelValue(std::string_view value);

// A sample value or `le` bound as the format writes it.
std::string formatValue(double value);

}  // namespace metrics
