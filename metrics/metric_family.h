// MetricFamily is what Registry::counter/gauge/histogram return: one metric name with its label
// names, and a series per distinct tuple of label values. Callers look a series up with
// with({"meshservice", "success"}) and keep the reference for the hot path.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "metrics/counter.h"
#include "metrics/gauge.h"
#include "metrics/histogram.h"
#include "metrics/metric_snapshot.h"

namespace metrics {

// What the Registry needs from a family of any metric type. Thread-safe.
class MetricFamilyBase {
 public:
  MetricFamilyBase(std::string name, std::string help, MetricType type,
                   std::vector<std::string> labelNames)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        labelNames_(std::move(labelNames)) {}
  virtual ~MetricFamilyBase() = default;
  MetricFamilyBase(const MetricFamilyBase&) = delete;
  MetricFamilyBase& operator=(const MetricFamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& labelNames() const { return labelNames_; }

  // The current value of every series, ordered by label values.
  virtual MetricFamilySnapshot snapshot() const = 0;

 protected:
  // Pairs the family's label names with values, in the order the names were registered.
  Labels labelsFor(const std::vector<std::string>& values) const {
    Labels labels;
    labels.reserve(values.size());
    for (size_t i = 0; i < values.size(); ++i)
      labels.push_back({labelNames_[i], values[i]});
    return labels;
  }

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> labelNames_;
};

/**
 * The series of one metric name. with() takes the family's mutex to find or create a series; the
 * series it returns is updated without a lock and stays valid as long as the Registry, so hot
 * paths look it up once. Thread-safe.
 */
template <class Metric>
class MetricFamily : public MetricFamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<Metric>()>;

  MetricFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> labelNames, Factory factory)
      : MetricFamilyBase(std::move(name), std::move(help), type, std::move(labelNames)),
        factory_(std::move(factory)) {
    // A family without labels has exactly one series; creating it now makes it scrape as 0 before
    // the first update, so rate() and absent() see it from the start.
    if (this->labelNames().empty()) with({});
  }

  // The series for labelValues, one per label name in registration order. Throws
  // std::invalid_argument if the count differs from the label names: a programming error that
  // would otherwise surface only as a malformed scrape.
  Metric& with(const std::vector<std::string>& labelValues) {
    if (labelValues.size() != labelNames().size()) {
      throw std::invalid_argument("metric " + name() + " takes " +
                                  std::to_string(labelNames().size()) + " label values, got " +
                                  std::to_string(labelValues.size()));
    }
    std::lock_guard lock(mutex_);
    auto [it, inserted] = series_.try_emplace(labelValues);
    if (inserted) it->second = factory_();
    return *it->second;
  }

  // MetricFamilyBase
  MetricFamilySnapshot snapshot() const override {
    MetricFamilySnapshot out{name(), help(), type(), {}};
    std::lock_guard lock(mutex_);
    out.samples.reserve(series_.size());
    for (const auto& [values, metric] : series_) {
      Sample sample{labelsFor(values), 0, {}};
      if constexpr (std::is_same_v<Metric, Histogram>) {
        sample.histogram = metric->snapshot();
      } else {
        sample.value = metric->value();
      }
      out.samples.push_back(std::move(sample));
    }
    return out;
  }

 private:
  const Factory factory_;
  mutable std::mutex mutex_;
  // Guarded by mutex_. Node-based and never erased from, so references handed out stay valid.
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

}  // namespace metrics
