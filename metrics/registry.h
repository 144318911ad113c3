// Registry holds the operator's and the webhook's Prometheus metrics: counter, gauge and histogram
// families registered at startup, plus collectors that report values other code already keeps at
// scrape time. ProbeServer calls collect() for GET /metrics; text_format.h renders the result.
//
//   auto& reconciles = registry.counter("meshgate_reconcile_total",
//                                       "Reconciles by controller and result",
//                                       {"controller", "result"});
//   reconciles.with({"meshservice", "success"}).inc();
//   CollectorHandle depth = registry.addCollector([&queue](SampleWriter& out) {
//     out.gauge("workqueue_depth", "Current depth of the work queue", {{"name", "meshservice"}},
//               static_cast<double>(queue.len()));
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/counter.h"
#include "metrics/gauge.h"
#include "metrics/histogram.h"
#include "metrics/metric_family.h"
#include "metrics/metric_snapshot.h"
#include "metrics/sample_writer.h"

namespace metrics {

// Runs at every scrape, on the scraping thread (the ProbeServer's). It must be quick, must not
// block on locks held across slow work, and must not call collect(), addCollector() or reset a
// CollectorHandle (the registry holds its collector lock meanwhile). An exception it throws drops
// its samples from that scrape and is logged.
using Collector = std::function<void(SampleWriter&)>;

class Registry;

/**
 * Keeps a collector registered: destroying the handle, or reset(), removes it and waits for a
 * scrape that is running it to finish, so what the collector captured may be destroyed right
 * after. Must not outlive its Registry. Not thread-safe itself (own it from one place).
 */
class [[nodiscard]] CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(CollectorHandle&& other) noexcept;
  CollectorHandle& operator=(CollectorHandle&& other) noexcept;
  ~CollectorHandle() { reset(); }

  void reset();
  bool registered() const { return registry_ != nullptr; }

 private:
  friend class Registry;
  CollectorHandle(Registry* registry, std::uint64_t id) : registry_(registry), id_(id) {}

  Registry* registry_ = nullptr;
  std::uint64_t id_ = 0;
};

/**
 * All methods are thread-safe. Registering a name again with the same type, help, label names
 * (and buckets) returns the family already registered, so independent components may declare a
 * shared metric; an invalid name, a duplicate label name or a conflicting re-registration throws
 * std::invalid_argument — programming errors, caught at startup rather than at the first scrape.
 */
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& counter(const std::string& name, const std::string& help,
                         const std::vector<std::string>& labelNames = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     const std::vector<std::string>& labelNames = {});
  // upperBounds: finite, strictly increasing; +Inf is implicit. `le` is not a valid label name.
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             const std::vector<std::string>& labelNames,
                             const std::vector<double>& upperBounds = Histogram::defaultBuckets());

  CollectorHandle addCollector(Collector collector);

  /**
   * Snapshots every family and runs every collector. Families come sorted by name, samples by
   * labels; samples a collector writes under a registered name join that family when the types
   * agree (otherwise they are dropped with a warning); a series written twice is kept once;
   * families without samples are left out.
   */
  std::vector<MetricFamilySnapshot> collect() const;

 private:
  friend class CollectorHandle;

  struct RegisteredFamily {
    std::unique_ptr<MetricFamilyBase> family;
    std::vector<double> upperBounds;  // histograms only
  };

  template <class Metric>
  MetricFamily<Metric>& registerFamily(const std::string& name, const std::string& help,
                                       MetricType type, const std::vector<std::string>& labelNames,
                                       const std::vector<double>& upperBounds);
  void removeCollector(std::uint64_t id);

  mutable std::mutex familiesMutex_;
  std::map<std::string, RegisteredFamily> families_;  // guarded by familiesMutex_

  // Held while collectors run (not only while the map changes), so that removeCollector() returns
  // only once the collector is neither running nor going to run.
  mutable std::mutex collectorsMutex_;
  std::uint64_t nextCollectorId_ = 1;              // guarded by collectorsMutex_
  std::map<std::uint64_t, Collector> collectors_;  // guarded by collectorsMutex_
};

}  // namespace metrics
