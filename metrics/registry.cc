// Family registration, collector bookkeeping and the merge of both at scrape time.
#include "metrics/registry.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "metrics/metric_name.h"

namespace metrics {

CollectorHandle::CollectorHandle(CollectorHandle&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), id_(other.id_) {}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

void CollectorHandle::reset() {
  if (registry_ != nullptr) std::exchange(registry_, nullptr)->removeCollector(id_);
}

namespace {

void validate(const std::string& name, MetricType type, const std::vector<std::string>& labelNames,
              const std::vector<double>& upperBounds) {
  if (!isValidMetricName(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
  std::set<std::string> seen;
  for (const std::string& label : labelNames) {
    if (!isValidLabelName(label) || (type == MetricType::kHistogram && label == "le")) {
      throw std::invalid_argument("metric " + name + ": invalid label name '" + label + "'");
    }
    if (!seen.insert(label).second) {
      throw std::invalid_argument("metric " + name + ": label '" + label + "' given twice");
    }
  }
  if (type == MetricType::kHistogram && !Histogram::validBuckets(upperBounds)) {
    throw std::invalid_argument("metric " + name +
                                ": buckets must be non-empty, finite and strictly increasing");
  }
}

}  // namespace

template <class Metric>
MetricFamily<Metric>& Registry::registerFamily(const std::string& name, const std::string& help,
                                               MetricType type,
                                               const std::vector<std::string>& labelNames,
                                               const std::vector<double>& upperBounds) {
  validate(name, type, labelNames, upperBounds);
  std::lock_guard lock(familiesMutex_);
  if (auto it = families_.find(name); it != families_.end()) {
    const MetricFamilyBase& existing = *it->second.family;
    if (existing.type() != type || existing.help() != help || existing.labelNames() != labelNames ||
        it->second.upperBounds != upperBounds) {
      throw std::invalid_argument("metric " + name +
                                  " is already registered with another type, help, labels or "
                                  "buckets");
    }
    // The type matched, so the family is a MetricFamily<Metric>.
    return static_cast<MetricFamily<Metric>&>(*it->second.family);
  }
  typename MetricFamily<Metric>::Factory factory;
  if constexpr (std::is_same_v<Metric, Histogram>) {
    factory = [upperBounds] { return std::make_unique<Histogram>(upperBounds); };
  } else {
    factory = [] { return std::make_unique<Metric>(); };
  }
  auto family =
      std::make_unique<MetricFamily<Metric>>(name, help, type, labelNames, std::move(factory));
  MetricFamily<Metric>& result = *family;
  families_.emplace(name, RegisteredFamily{std::move(family), upperBounds});
  return result;
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 const std::vector<std::string>& labelNames) {
  return registerFamily<Counter>(name, help, MetricType::kCounter, labelNames, {});
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help,
                             const std::vector<std::string>& labelNames) {
  return registerFamily<Gauge>(name, help, MetricType::kGauge, labelNames, {});
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     const std::vector<std::string>& labelNames,
                                     const std::vector<double>& upperBounds) {
  return registerFamily<Histogram>(name, help, MetricType::kHistogram, labelNames, upperBounds);
}

CollectorHandle Registry::addCollector(Collector collector) {
  std::lock_guard lock(collectorsMutex_);
  const std::uint64_t id = nextCollectorId_++;
  collectors_.emplace(id, std::move(collector));
  return CollectorHandle(this, id);
}

void Registry::removeCollector(std::uint64_t id) {
  std::lock_guard lock(collectorsMutex_);
  collectors_.erase(id);
}

std::vector<MetricFamilySnapshot> Registry::collect() const {
  std::map<std::string, MetricFamilySnapshot, std::less<>> byName;
  {
    std::lock_guard lock(familiesMutex_);
    for (const auto& [name, registered] : families_) {
      byName.emplace(name, registered.family->snapshot());
    }
  }
  {
    std::lock_guard lock(collectorsMutex_);
    for (const auto& [id, collector] : collectors_) {
      SampleWriter writer;
      try {
        collector(writer);
      } catch (const std::exception& e) {
        spdlog::warn("metrics: collector {} failed, its samples are left out: {}", id, e.what());
        continue;
      } catch (...) {
        spdlog::warn("metrics: collector {} failed, its samples are left out", id);
        continue;
      }
      for (auto& [name, written] : writer.take()) {
        auto it = byName.find(name);
        if (it == byName.end()) {
          byName.emplace(name, std::move(written));
        } else if (it->second.type != written.type) {
          spdlog::warn("metrics: collector {} wrote {} as a {}, but it is a {}; samples dropped",
                       id, name, metricTypeName(written.type), metricTypeName(it->second.type));
        } else {
          auto& samples = it->second.samples;
          std::move(written.samples.begin(), written.samples.end(), std::back_inserter(samples));
        }
      }
    }
  }

  std::vector<MetricFamilySnapshot> out;
  out.reserve(byName.size());
  for (auto& [name, family] : byName) {
    auto& samples = family.samples;
    // Collectors often iterate hash maps; sorting keeps the scrape output stable between scrapes.
    std::stable_sort(samples.begin(), samples.end(),
                     [](const Sample& a, const Sample& b) { return a.labels < b.labels; });
    // Two samples of one series make Prometheus reject the whole scrape; keep the first.
    auto duplicate =
        std::unique(samples.begin(), samples.end(),
                    [](const Sample& a, const Sample& b) { return a.labels == b.labels; });
    if (duplicate != samples.end()) {
      spdlog::warn("metrics: {} has {} duplicate series; the first of each is kept", name,
                   samples.end() - duplicate);
      samples.erase(duplicate, samples.end());
    }
    if (!samples.empty()) out.push_back(std::move(family));
  }
  return out;
}

}  // namespace metrics
