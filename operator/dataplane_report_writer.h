// DataplaneReportWriter keeps this replica's DataplaneReport (dataplane_report.h) in ConfigMap
// `meshgate-dataplanes-<replica>` of the system namespace while the replica does not lead, so
// that the leader counts the proxies connected here. Driven by the local DataplaneRegistry's
// changes, coalesced (one write at most per window), and written only when the report differs
// from the last one written: an idle cluster sees no writes. A replica without proxies, or one
// that leads (the leader counts its own proxies directly), has no report. Failures are logged and
// retried with backoff; they never stop the operator. Owned by main(); thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "base/coalescing_batcher.h"
#include "kube/rest_client.h"
#include "operator/dataplane_registry.h"

namespace meshgate::op {

struct DataplaneReportWriterOptions {
  std::string systemNamespace = "meshgate-system";
  std::string replica;  // a DNS label (replicaLabel())
  // The replica's Pod ($POD_NAME, $POD_UID): when both are set the ConfigMap is owned by it, and
  // the garbage collector deletes the report of a replica that went without a clean shutdown.
  std::string podName;
  std::string podUid;
  std::chrono::milliseconds window{250};
  std::chrono::milliseconds firstRetry{std::chrono::seconds(1)};
  std::chrono::milliseconds maxRetry{std::chrono::seconds(30)};
};

class DataplaneReportWriter {
 public:
  // The first pass runs a window after construction: it removes a report a previous run of the
  // same replica may have left. `client` and `registry` must outlive the writer.
  DataplaneReportWriter(kube::RestClient& client, const DataplaneRegistry& registry,
                        DataplaneReportWriterOptions options);
  ~DataplaneReportWriter();
  DataplaneReportWriter(const DataplaneReportWriter&) = delete;
  DataplaneReportWriter& operator=(const DataplaneReportWriter&) = delete;

  // The local proxies changed. Cheap; any thread.
  void changed();
  // This replica leads from now on: its report is deleted and no other is written.
  void startedLeading();
  // Clean shutdown: writes no more and deletes the report (one request, with the client's
  // timeout). Idempotent.
  void stop();

  // Passes completed (a pass ends when the ConfigMap says what it should, or at stop()).
  std::uint64_t passes() const { return passes_.load(); }

 private:
  // On the batcher's thread: attempts until the ConfigMap says what it should, or stop().
  void flush();
  // One attempt; true when nothing is left to do.
  bool reconcile();
  bool removeReport();

  kube::RestClient& client_;
  const DataplaneRegistry& registry_;
  const DataplaneReportWriterOptions options_;
  const std::string name_;
  std::mutex mutex_;
  std::condition_variable wake_;  // ends a retry wait at stop()
  bool stopping_ = false;
  bool leading_ = false;
  // What the ConfigMap holds as far as this writer knows: nullopt before the first pass (a
  // previous run may have left one), "" for no ConfigMap, else the report written. Touched only
  // on the batcher's thread, and by stop() after that thread ended.
  std::optional<std::string> written_;
  std::atomic<std::uint64_t> passes_{0};
  // Declared last: its thread ends before the members it uses go.
  CoalescingBatcher batcher_;
};

}  // namespace meshgate::op
