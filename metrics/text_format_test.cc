// The text exposition format, byte for byte.
#include "metrics/text_format.h"

#include <limits>

#include <gtest/gtest.h>

#include "metrics/registry.h"

namespace metrics {
namespace {

TEST(TextFormatTest, RendersASmallRegistryExactly) {
  Registry registry;
  auto& reconciles = registry.counter(
      "meshgate_reconcile_total", "Reconciles by controller and result", {"controller", "result"});
  reconciles.with({"meshservice", "success"}).inc(3);
  reconciles.with({"apiroute", "error"}).inc();
  registry.gauge("meshgate_leader", "1 while this replica leads").with({}).set(1);
  auto& durations = registry.histogram("meshgate_reconcile_duration_seconds",
                                       "Time spent in reconcile", {"controller"}, {0.01, 0.1, 1});
  durations.with({"meshservice"}).observe(0.005);
  durations.with({"meshservice"}).observe(0.05);
  durations.with({"meshservice"}).observe(0.25);
  durations.with({"meshservice"}).observe(3);
  CollectorHandle handle = registry.addCollector([](SampleWriter& out) {
    out.gauge("meshgate_certificate_expiry_seconds", "Seconds until the earliest expiry", {},
              86400);
  });

  EXPECT_EQ(renderTextFormat(registry.collect()),
            "# HELP meshgate_certificate_expiry_seconds Seconds until the earliest expiry\n"
            "# TYPE meshgate_certificate_expiry_seconds gauge\n"
            "meshgate_certificate_expiry_seconds 86400\n"
            "# HELP meshgate_leader 1 while this replica leads\n"
            "# TYPE meshgate_leader gauge\n"
            "meshgate_leader 1\n"
            "# HELP meshgate_reconcile_duration_seconds Time spent in reconcile\n"
            "# TYPE meshgate_reconcile_duration_seconds histogram\n"
            "meshgate_reconcile_duration_seconds_bucket{controller=\"meshservice\",le=\"0.01\"} 1\n"
            "meshgate_reconcile_duration_seconds_bucket{controller=\"meshservice\",le=\"0.1\"} 2\n"
            "meshgate_reconcile_duration_seconds_bucket{controller=\"meshservice\",le=\"1\"} 3\n"
            "meshgate_reconcile_duration_seconds_bucket{controller=\"meshservice\",le=\"+Inf\"} 4\n"
            "meshgate_reconcile_duration_seconds_sum{controller=\"meshservice\"} 3.305\n"
            "meshgate_reconcile_duration_seconds_count{controller=\"meshservice\"} 4\n"
            "# HELP meshgate_reconcile_total Reconciles by controller and result\n"
            "# TYPE meshgate_reconcile_total counter\n"
            "meshgate_reconcile_total{controller=\"apiroute\",result=\"error\"} 1\n"
            "meshgate_reconcile_total{controller=\"meshservice\",result=\"success\"} 3\n");
}

TEST(TextFormatTest, HistogramWithoutLabelsPutsLeAlone) {
  MetricFamilySnapshot family{"latency_seconds", "Latency", MetricType::kHistogram, {}};
  family.samples.push_back(Sample{{}, 0, HistogramValue{{0.5}, {1}, 2, 1.25}});
  EXPECT_EQ(renderTextFormat({family}),
            "# HELP latency_seconds Latency\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.5\"} 1\n"
            "latency_seconds_bucket{le=\"+Inf\"} 2\n"
            "latency_seconds_sum 1.25\n"
            "latency_seconds_count 2\n");
}

TEST(TextFormatTest, EscapesLabelValuesAndHelp) {
  MetricFamilySnapshot family{"m", "a \\ backslash\nand a \"quote\"", MetricType::kGauge, {}};
  family.samples.push_back(Sample{{{"path", "C:\\dir \"x\"\nnext"}}, 1, {}});
  EXPECT_EQ(renderTextFormat({family}),
            "# HELP m a \\\\ backslash\\nand a \"quote\"\n"
            "# TYPE m gauge\n"
            "m{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n");
}

TEST(TextFormatTest, EscapeLabelValueLeavesOtherBytesAlone) {
  EXPECT_EQ(escapeLabelValue("plain-value/ü\t"), "plain-value/ü\t");
  EXPECT_EQ(escapeLabelValue(""), "");
}

TEST(TextFormatTest, FormatsValuesInShortestRoundTripForm) {
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(42), "42");
  EXPECT_EQ(formatValue(-1.5), "-1.5");
  EXPECT_EQ(formatValue(0.1), "0.1");
  EXPECT_EQ(formatValue(1e-9), "1e-09");
  EXPECT_EQ(formatValue(1e21), "1e+21");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(TextFormatTest, EmptyRegistryRendersNothing) {
  EXPECT_EQ(renderTextFormat({}), "");
}

}  // namespace
}  // namespace metrics
