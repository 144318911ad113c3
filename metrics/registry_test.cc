// Registry: families and their series, registration rules, collectors, and increments from many
// threads.
#include "metrics/registry.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

TEST(RegistryTest, CounterSeriesAreKeptPerLabelValues) {
  Registry registry;
  auto& reconciles = registry.counter(
      "meshgate_reconcile_total", "Reconciles by controller and result", {"controller", "result"});
  reconciles.with({"meshservice", "success"}).inc();
  reconciles.with({"meshservice", "success"}).inc(2);
  reconciles.with({"meshservice", "error"}).inc();

  EXPECT_EQ(reconciles.with({"meshservice", "success"}).value(), 3);
  EXPECT_EQ(reconciles.with({"meshservice", "error"}).value(), 1);

  const auto families = registry.collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "meshgate_reconcile_total");
  EXPECT_EQ(families[0].help, "Reconciles by controller and result");
  EXPECT_EQ(families[0].type, MetricType::kCounter);
  EXPECT_THAT(families[0].samples,
              ElementsAre(Sample{{{"controller", "meshservice"}, {"result", "error"}}, 1, {}},
                          Sample{{{"controller", "meshservice"}, {"result", "success"}}, 3, {}}));
}

TEST(RegistryTest, SeriesReferenceStaysValidAsSeriesAreAdded) {
  Registry registry;
  auto& family = registry.counter("requests_total", "Requests", {"path"});
  Counter& first = family.with({"/a"});
  for (int i = 0; i < 1000; ++i)
    family.with({"/" + std::to_string(i)});
  first.inc();
  EXPECT_EQ(&first, &family.with({"/a"}));
  EXPECT_EQ(family.with({"/a"}).value(), 1);
}

TEST(RegistryTest, CounterIgnoresNegativeIncrements) {
  Registry registry;
  Counter& counter = registry.counter("c_total", "c").with({});
  counter.inc(5);
  counter.inc(-2);
  EXPECT_EQ(counter.value(), 5);
}

TEST(RegistryTest, GaugeGoesUpAndDown) {
  Registry registry;
  Gauge& leader = registry.gauge("meshgate_leader", "1 while this replica leads").with({});
  leader.set(1);
  leader.inc(2);
  leader.dec(0.5);
  EXPECT_EQ(leader.value(), 2.5);
  leader.set(-1);
  EXPECT_EQ(leader.value(), -1);
}

TEST(RegistryTest, FamilyWithoutLabelsScrapesAsZeroBeforeAnyUpdate) {
  Registry registry;
  registry.counter("meshgate_events_total", "Events");
  const auto families = registry.collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_THAT(families[0].samples, ElementsAre(Sample{{}, 0, {}}));
}

TEST(RegistryTest, FamilyWithLabelsAndNoSeriesIsLeftOut) {
  Registry registry;
  registry.counter("meshgate_events_total", "Events", {"reason"});
  EXPECT_THAT(registry.collect(), IsEmpty());
}

TEST(RegistryTest, HistogramSeriesSnapshotTheirBuckets) {
  Registry registry;
  auto& durations = registry.histogram("meshgate_reconcile_duration_seconds", "Reconcile time",
                                       {"controller"}, {0.1, 1});
  durations.with({"apiroute"}).observe(0.05);
  durations.with({"apiroute"}).observe(0.5);

  const auto families = registry.collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].type, MetricType::kHistogram);
  ASSERT_EQ(families[0].samples.size(), 1u);
  const HistogramValue& value = families[0].samples[0].histogram;
  EXPECT_EQ(value.cumulativeCounts, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(value.count, 2u);
  EXPECT_DOUBLE_EQ(value.sum, 0.55);
}

TEST(RegistryTest, WrongNumberOfLabelValuesThrows) {
  Registry registry;
  auto& family = registry.counter("c_total", "c", {"a", "b"});
  EXPECT_THROW(family.with({"x"}), std::invalid_argument);
  EXPECT_THROW(family.with({"x", "y", "z"}), std::invalid_argument);
}

TEST(RegistryTest, IdenticalRegistrationReturnsTheSameFamily) {
  Registry registry;
  auto& first = registry.counter("c_total", "c", {"a"});
  auto& second = registry.counter("c_total", "c", {"a"});
  EXPECT_EQ(&first, &second);
  auto& h1 = registry.histogram("h", "h", {}, {1, 2});
  auto& h2 = registry.histogram("h", "h", {}, {1, 2});
  EXPECT_EQ(&h1, &h2);
}

TEST(RegistryTest, ConflictingRegistrationThrows) {
  Registry registry;
  registry.counter("m", "help", {"a"});
  EXPECT_THROW(registry.gauge("m", "help", {"a"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("m", "other help", {"a"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("m", "help", {"b"}), std::invalid_argument);
  registry.histogram("h", "h", {}, {1, 2});
  EXPECT_THROW(registry.histogram("h", "h", {}, {1, 3}), std::invalid_argument);
}

TEST(RegistryTest, InvalidNamesThrow) {
  Registry registry;
  EXPECT_THROW(registry.counter("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok", "x", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "x", {"le"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "x", {}, {2, 1}), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("ns:sub_total", "x", {"_a1"}));
}

TEST(RegistryTest, FamiliesAreSortedByName) {
  Registry registry;
  registry.gauge("zeta", "z");
  registry.counter("alpha_total", "a");
  registry.gauge("mid", "m");
  const auto families = registry.collect();
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].name, "alpha_total");
  EXPECT_EQ(families[1].name, "mid");
  EXPECT_EQ(families[2].name, "zeta");
}

TEST(RegistryTest, CollectorRunsAtEveryScrape) {
  Registry registry;
  std::atomic<int> depth = 3;
  int calls = 0;
  CollectorHandle handle = registry.addCollector([&](SampleWriter& out) {
    ++calls;
    out.gauge("workqueue_depth", "Current depth of the work queue", {{"name", "meshservice"}},
              depth.load());
  });

  auto families = registry.collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].type, MetricType::kGauge);
  EXPECT_THAT(families[0].samples, ElementsAre(Sample{{{"name", "meshservice"}}, 3, {}}));

  depth = 7;
  families = registry.collect();
  EXPECT_THAT(families[0].samples, ElementsAre(Sample{{{"name", "meshservice"}}, 7, {}}));
  EXPECT_EQ(calls, 2);
}

TEST(RegistryTest, RemovedCollectorNoLongerRuns) {
  Registry registry;
  int calls = 0;
  CollectorHandle handle = registry.addCollector([&](SampleWriter& out) {
    ++calls;
    out.gauge("g", "g", {}, 1);
  });
  registry.collect();
  CollectorHandle moved = std::move(handle);
  EXPECT_FALSE(handle.registered());
  EXPECT_TRUE(moved.registered());
  registry.collect();
  moved.reset();
  EXPECT_THAT(registry.collect(), IsEmpty());
  EXPECT_EQ(calls, 2);
}

TEST(RegistryTest, CollectorSamplesAreSortedByLabels) {
  Registry registry;
  CollectorHandle handle = registry.addCollector([](SampleWriter& out) {
    out.counter("rest_client_requests_total", "Requests by verb", {{"verb", "PUT"}}, 1);
    out.counter("rest_client_requests_total", "Requests by verb", {{"verb", "GET"}}, 5);
    out.counter("rest_client_requests_total", "Requests by verb", {{"verb", "LIST"}}, 2);
  });
  const auto families = registry.collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_THAT(families[0].samples, ElementsAre(Field(&Sample::value, 5), Field(&Sample::value, 2),
                                               Field(&Sample::value, 1)));
}

TEST(RegistryTest, CollectorSamplesJoinARegisteredFamilyOfTheSameType) {
  Registry registry;
  registry.gauge("queue_depth", "Depth", {"name"}).with({"b"}).set(2);
  CollectorHandle same = registry.addCollector([](SampleWriter& out) {
    out.gauge("queue_depth", "ignored", {{"name", "a"}}, 1);
  });
  CollectorHandle conflicting = registry.addCollector([](SampleWriter& out) {
    out.counter("queue_depth", "Depth", {{"name", "c"}}, 9);
  });

  const auto families = registry.collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].help, "Depth");
  EXPECT_THAT(families[0].samples,
              ElementsAre(Sample{{{"name", "a"}}, 1, {}}, Sample{{{"name", "b"}}, 2, {}}));
}

TEST(RegistryTest, DuplicateSeriesKeepsTheFirst) {
  Registry registry;
  registry.gauge("g", "g", {"k"}).with({"v"}).set(1);
  CollectorHandle handle = registry.addCollector([](SampleWriter& out) {
    out.gauge("g", "g", {{"k", "v"}}, 2);
  });
  const auto families = registry.collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_THAT(families[0].samples, ElementsAre(Sample{{{"k", "v"}}, 1, {}}));
}

TEST(RegistryTest, ThrowingCollectorLosesOnlyItsOwnSamples) {
  Registry registry;
  CollectorHandle bad = registry.addCollector([](SampleWriter& out) {
    out.gauge("partial", "p", {}, 1);
    throw std::runtime_error("cache gone");
  });
  CollectorHandle good =
      registry.addCollector([](SampleWriter& out) { out.gauge("fine", "f", {}, 1); });
  const auto families = registry.collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "fine");
}

TEST(RegistryTest, ConcurrentIncrementsSumExactly) {
  Registry registry;
  auto& counter = registry.counter("ops_total", "ops", {"worker"});
  auto& histogram = registry.histogram("op_seconds", "op time", {}, {0.5, 1});
  auto& gauge = registry.gauge("in_flight", "in flight");
  constexpr int kThreads = 8;
  constexpr int kIterations = 20000;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Half the threads share a series, the other half look theirs up each time, so that both the
      // atomic add and the label lookup race.
      Counter& shared = counter.with({"shared"});
      for (int i = 0; i < kIterations; ++i) {
        if (t % 2 == 0) {
          shared.inc();
        } else {
          counter.with({"worker-" + std::to_string(i % 4)}).inc();
        }
        histogram.with({}).observe(i % 2 == 0 ? 0.25 : 0.75);
        gauge.with({}).inc();
        gauge.with({}).dec();
      }
    });
  }
  // Scrapes racing the increments must be safe too.
  for (int i = 0; i < 20; ++i)
    registry.collect();
  for (auto& thread : threads)
    thread.join();

  double perWorker = 0;
  for (int w = 0; w < 4; ++w)
    perWorker += counter.with({"worker-" + std::to_string(w)}).value();
  EXPECT_EQ(counter.with({"shared"}).value(), kThreads / 2 * kIterations);
  EXPECT_EQ(perWorker, kThreads / 2 * kIterations);
  const HistogramValue h = histogram.with({}).snapshot();
  EXPECT_EQ(h.count, std::uint64_t{kThreads} * kIterations);
  EXPECT_EQ(h.cumulativeCounts, (std::vector<std::uint64_t>{h.count / 2, h.count}));
  EXPECT_EQ(h.sum, kThreads * kIterations * 0.5);
  EXPECT_EQ(gauge.with({}).value(), 0);
}

TEST(RegistryTest, CollectorRemovalWaitsForARunningScrape) {
  Registry registry;
  std::atomic<bool> inCollector = false;
  std::atomic<bool> release = false;
  std::atomic<bool> collectorFinished = false;
  auto handle = std::make_unique<CollectorHandle>(registry.addCollector([&](SampleWriter&) {
    inCollector = true;
    while (!release)
      std::this_thread::yield();
    collectorFinished = true;
  }));
  std::thread scraper([&] { registry.collect(); });
  while (!inCollector)
    std::this_thread::yield();

  std::atomic<bool> removing = false;
  std::thread remover([&] {
    removing = true;
    handle.reset();
    // Removal returned, so the collector has finished and its captures may be destroyed.
    EXPECT_TRUE(collectorFinished);
  });
  while (!removing)
    std::this_thread::yield();
  // A thread blocked on a mutex cannot be observed; give the remover time to reach it, so that a
  // removal that did not wait would be seen finishing before the collector.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release = true;
  remover.join();
  scraper.join();
}

}  // namespace
}  // namespace metrics
