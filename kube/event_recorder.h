// EventRecorder publishes events.k8s.io/v1 Events about objects — what `kubectl describe` shows
// under "Events" — for the operator's controllers (e.g. "MeshService web: Synced"). Reconcile
// loops call record() freely: it never waits for the apiserver, repeats are folded into an
// Event's series, and a per-object budget caps distinct Events, so a hot loop cannot flood the
// apiserver — the behaviour of client-go's tools/events broadcaster.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "kube/clock.h"
#include "kube/rest_client.h"
#include "kube/token_bucket.h"

namespace kube {

enum class EventType { Normal, Warning };

struct EventRecorderOptions {
  // Who reports: the Event's reportingController and reportingInstance (empty: the hostname,
  // which is the pod name in a cluster).
  std::string reportingController = "meshgate.io/operator";
  std::string reportingInstance;
  // An identical event (same object uid, type, reason, action and note) seen again within this
  // long of the previous one joins that Event's series instead of creating a new Event.
  std::chrono::milliseconds aggregationWindow{std::chrono::minutes(10)};
  // A series is written to the apiserver at most this often; counts accumulate in between.
  std::chrono::milliseconds seriesUpdateInterval{std::chrono::seconds(30)};
  // Per-object budget for new distinct Events: a bucket of perObjectBurst, refilled at
  // perObjectQps (default: one every 5 minutes). The excess is dropped.
  double perObjectQps = 1.0 / 300;
  int perObjectBurst = 25;
  // Distinct Events waiting to be created; record() drops when it is full.
  std::size_t queueCapacity = 1000;
  // How long, on the clock, stop() keeps sending what is queued before dropping the rest.
  std::chrono::milliseconds flushTimeout{std::chrono::seconds(5)};
};

// Counters for metrics and tests. Every record() call counts in `recorded` and in one of
// aggregated, dropped*, or — once the sender has tried to create its Event — created or failed.
struct EventRecorderStats {
  uint64_t recorded = 0;            // record() calls
  uint64_t created = 0;             // Events created on the apiserver
  uint64_t aggregated = 0;          // records folded into an existing series
  uint64_t seriesUpdates = 0;       // series writes the apiserver accepted
  uint64_t droppedRateLimited = 0;  // over the per-object budget
  uint64_t droppedQueueFull = 0;
  uint64_t droppedStopped = 0;  // recorded after stop(), or still queued at the flush timeout
  uint64_t droppedInvalid = 0;  // the object had no metadata.name
  uint64_t failed = 0;          // creates, and series writes, the apiserver did not accept
};

/**
 * Records Events through a background sender thread started by the constructor. record(),
 * stats() and stop() are thread-safe. record() only takes a short in-memory lock; all apiserver
 * I/O happens on the sender thread, which creates Events in the order they were recorded.
 *
 * Series updates are JSON merge patches of {series: {count, lastObservedTime}} on the Event
 * created for the first occurrence; if that Event is gone (the apiserver's Event TTL), a new one
 * is created carrying the series.
 */
class EventRecorder {
 public:
  // client and clock must outlive the recorder. Throws std::invalid_argument for a per-object
  // budget TokenBucket rejects.
  EventRecorder(RestClient& client, Clock& clock, EventRecorderOptions options = {});
  // stop().
  ~EventRecorder();

  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  /**
   * Records that `action` happened to `object` (a full object as read from the apiserver: its
   * apiVersion, kind, metadata.name/namespace/uid/resourceVersion go into `regarding`), for
   * `reason` (UpperCamelCase, e.g. "Synced"). `note` is for humans, truncated to 1 KiB.
   * Never blocks on I/O.
   */
  void record(const nlohmann::json& object, EventType type, const std::string& reason,
              const std::string& action, const std::string& note);

  /**
   * Stops accepting records, sends what is queued and any unsent series counts for up to
   * flushTimeout (plus the request in flight), then joins the sender. Idempotent. Called from
   * the sender thread itself (i.e. from inside the transport), it only requests the stop.
   */
  void stop();

  EventRecorderStats stats() const;

 private:
  struct Series;
  using SeriesSharedPtr = std::shared_ptr<Series>;
  struct ObjectBudget {
    std::unique_ptr<TokenBucket> bucket;
    Clock::TimePoint lastUsed;
  };

  void sendLoop();
  void create(const SeriesSharedPtr& series, std::unique_lock<std::mutex>& lock);
  void updateSeries(const SeriesSharedPtr& series, std::unique_lock<std::mutex>& lock);
  void scheduleSeriesUpdate(const SeriesSharedPtr& series);
  void unscheduleSeriesUpdate(const SeriesSharedPtr& series);
  void collectGarbage(Clock::TimePoint now);
  std::string eventName(const std::string& objectName);

  RestClient& client_;
  Clock& clock_;
  const EventRecorderOptions options_;
  const std::string reportingInstance_;
  const Clock::Duration budgetIdleTtl_;  // an unused budget is full again after this long

  mutable std::mutex mutex_;
  std::condition_variable cv_;                               // wakes the sender: new work or stop
  std::unordered_map<std::string, SeriesSharedPtr> series_;  // by aggregation key
  std::unordered_map<std::string, ObjectBudget> budgets_;    // by object uid
  std::deque<SeriesSharedPtr> createQueue_;                  // Events not yet created
  std::multimap<Clock::TimePoint, SeriesSharedPtr> updatesDue_;  // series with unsent counts
  std::mt19937_64 random_;
  EventRecorderStats stats_;
  Clock::TimePoint nextGarbageCollection_;
  bool stopping_ = false;
  Clock::TimePoint flushDeadline_{};

  std::mutex joinMutex_;  // one stop() joins the sender; concurrent callers wait for it
  std::thread sender_;
};

using EventRecorderPtr = std::unique_ptr<EventRecorder>;

}  // namespace kube
