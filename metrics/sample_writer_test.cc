// SampleWriter: what a collector's mistakes cost.
#include "metrics/sample_writer.h"

#include <gtest/gtest.h>

namespace metrics {
namespace {

TEST(SampleWriterTest, GroupsSamplesByNameWithFirstHelpAndType) {
  SampleWriter writer;
  writer.counter("requests_total", "Requests", {{"verb", "GET"}}, 2);
  writer.counter("requests_total", "other help", {{"verb", "PUT"}}, 1);
  auto families = writer.take();
  ASSERT_EQ(families.size(), 1u);
  const auto& family = families.at("requests_total");
  EXPECT_EQ(family.help, "Requests");
  EXPECT_EQ(family.type, MetricType::kCounter);
  EXPECT_EQ(family.samples.size(), 2u);
  EXPECT_TRUE(writer.take().empty());
}

TEST(SampleWriterTest, DropsSamplesWithInvalidNames) {
  SampleWriter writer;
  writer.gauge("bad-name", "x", {}, 1);
  writer.gauge("good", "x", {{"bad label", "v"}}, 1);
  writer.gauge("good", "x", {{"__name__", "v"}}, 1);
  EXPECT_TRUE(writer.take().empty());
}

TEST(SampleWriterTest, DropsASampleOfAnotherTypeUnderTheSameName) {
  SampleWriter writer;
  writer.gauge("depth", "x", {}, 1);
  writer.counter("depth", "x", {{"a", "b"}}, 1);
  auto families = writer.take();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families.at("depth").samples.size(), 1u);
  EXPECT_EQ(families.at("depth").type, MetricType::kGauge);
}

TEST(SampleWriterTest, DropsMalformedHistograms) {
  SampleWriter writer;
  writer.histogram("h", "x", {}, HistogramValue{{1, 2}, {1}, 1, 1});
  writer.histogram("h", "x", {{"le", "1"}}, HistogramValue{{1}, {1}, 1, 1});
  EXPECT_TRUE(writer.take().empty());
  writer.histogram("h", "x", {{"queue", "q"}}, HistogramValue{{1}, {1}, 1, 1});
  EXPECT_EQ(writer.take().size(), 1u);
}

}  // namespace
}  // namespace metrics
