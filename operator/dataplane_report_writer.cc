// This replica's report of its proxies, kept in a ConfigMap; see dataplane_report_writer.h.
#include "operator/dataplane_report_writer.h"

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>

#include "operator/dataplane_report.h"
#include "operator/owner_reference.h"

namespace meshgate::op {

DataplaneReportWriter::DataplaneReportWriter(kube::RestClient& client,
                                             const DataplaneRegistry& registry,
                                             DataplaneReportWriterOptions options)
    : client_(client),
      registry_(registry),
      options_(std::move(options)),
      name_(dataplaneReportName(options_.replica)),
      batcher_(options_.window, [this](const std::set<std::string>&) { flush(); }) {
  batcher_.mark("report");
}

DataplaneReportWriter::~DataplaneReportWriter() {
  stop();
}

void DataplaneReportWriter::changed() {
  batcher_.mark("report");
}

void DataplaneReportWriter::startedLeading() {
  {
    std::lock_guard lock(mutex_);
    leading_ = true;
  }
  batcher_.mark("report");
}

void DataplaneReportWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  batcher_.stop();
  // The batcher's thread has ended: written_ is ours now.
  if (written_ && written_->empty()) return;
  if (removeReport()) spdlog::info("dataplane report {}: deleted on shutdown", name_);
}

void DataplaneReportWriter::flush() {
  for (auto backoff = options_.firstRetry;; backoff = std::min(backoff * 2, options_.maxRetry)) {
    bool done = false;
    try {
      done = reconcile();
    } catch (const std::exception& e) {
      spdlog::error("dataplane report {}: {}", name_, e.what());
    }
    if (done) break;
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, backoff, [&] { return stopping_; })) break;
  }
  passes_++;
}

bool DataplaneReportWriter::reconcile() {
  bool leading = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return true;
    leading = leading_;
  }
  std::string report;  // empty: no report wanted
  if (!leading) {
    // Sidecars are left out of the report: a replica serving only sidecars has none.
    const auto made = makeDataplaneReport(options_.replica, registry_.list());
    if (!made.dataplanes.empty()) report = encodeDataplaneReport(made);
  }
  if (written_ == report) return true;
  if (report.empty()) return removeReport();

  nlohmann::json metadata = {
      {"name", name_},
      {"namespace", options_.systemNamespace},
      {"labels", {{kDataplaneReportLabel, "true"}, {kManagedByLabel, kManagedByValue}}}};
  if (!options_.podName.empty() && !options_.podUid.empty()) {
    metadata["ownerReferences"] = nlohmann::json::array({{{"apiVersion", "v1"},
                                                          {"kind", "Pod"},
                                                          {"name", options_.podName},
                                                          {"uid", options_.podUid}}});
  }
  const nlohmann::json object = {{"apiVersion", "v1"},
                                 {"kind", "ConfigMap"},
                                 {"metadata", std::move(metadata)},
                                 {"data", {{kDataplaneReportKey, report}}}};
  auto applied = client_.apply(kube::resources::kConfigMaps, object, kFieldManager);
  if (!applied) {
    spdlog::warn("dataplane report {}: not written (retrying): {}", name_,
                 applied.error().toString());
    return false;
  }
  written_ = std::move(report);
  return true;
}

bool DataplaneReportWriter::removeReport() {
  const auto removed =
      client_.remove(kube::resources::kConfigMaps, options_.systemNamespace, name_);
  if (!removed && !removed.error().isNotFound()) {
    spdlog::warn("dataplane report {}: not deleted: {}", name_, removed.error().toString());
    return false;
  }
  written_ = "";
  return true;
}

}  // namespace meshgate::op
