// EventRecorder: in-memory aggregation under one short lock (record()), apiserver writes on the
// sender thread (sendLoop()).
//
// Each distinct event is a Series: the Event created for its first occurrence plus the count of
// occurrences since. record() only updates counts and queues creates; the sender creates Events in
// order, and writes a series' count when it is due — seriesUpdateInterval after the previous write
// of that series — so any burst of repeats costs at most one request per interval.
#include "kube/event_recorder.h"
#include "kube/wire_time.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <ctime>
#include <optional>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace kube {

namespace {

constexpr std::size_t kNoteLimitBytes = 1024;  // events.k8s.io/v1 validation: note <= 1 KiB
constexpr std::size_t kReasonLimitBytes = 128;
constexpr std::size_t kNameLimit = 253;  // DNS subdomain
constexpr std::size_t kSuffixLength = 16;
constexpr auto kGarbageCollectionPeriod = std::chrono::minutes(1);
constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD";

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629, no overlongs or surrogates),
// or 0 if the bytes there are not one.
std::size_t utf8SequenceLength(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const auto continuation = [&](std::size_t k, unsigned char lo, unsigned char hi) {
    return i + k < text.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1, 0x80, 0xBF) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    const unsigned char lo = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = lead == 0xED ? 0x9F : 0xBF;
    return continuation(1, lo, hi) && continuation(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    const unsigned char lo = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = lead == 0xF4 ? 0x8F : 0xBF;
    return continuation(1, lo, hi) && continuation(2, 0x80, 0xBF) && continuation(3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

// At most `limit` bytes of valid UTF-8, cut on a character boundary. Invalid bytes become U+FFFD:
// nlohmann::json refuses to serialize invalid UTF-8, and the sender must never fail on it.
std::string truncateUtf8(const std::string& text, std::size_t limit) {
  std::string out;
  out.reserve(std::min(text.size(), limit));
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8SequenceLength(text, i);
    const std::string_view piece = length > 0 ? std::string_view(text).substr(i, length)
                                              : std::string_view(kReplacementCharacter);
    if (out.size() + piece.size() > limit) break;
    out += piece;
    i += length > 0 ? length : 1;
  }
  return out;
}

std::string stringField(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return "";
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? truncateUtf8(it->get<std::string>(), kNameLimit)
                                               : std::string();
}

std::string hostname() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "unknown";
  return host;
}

const char* typeName(EventType type) {
  return type == EventType::Warning ? "Warning" : "Normal";
}

EventRecorderOptions validated(Clock& clock, EventRecorderOptions options) {
  // TokenBucket owns the rules for a usable (qps, burst); let it reject the budget up front.
  TokenBucket probe(clock, options.perObjectQps, options.perObjectBurst);
  return options;
}

// Set on the sender thread, so stop() called from inside a request does not join itself.
thread_local const EventRecorder* sendingRecorder = nullptr;

}  // namespace

struct EventRecorder::Series {
  std::string key;  // aggregation key: object, type, reason, action, note
  std::string eventNamespace;
  std::string objectName;
  nlohmann::json event;  // as created for the first occurrence
  enum class State { Queued, Creating, Created } state = State::Queued;
  int64_t count = 1;      // occurrences recorded
  int64_t sentCount = 0;  // occurrences the apiserver knows about
  Clock::TimePoint lastObserved;
  Clock::WallTimePoint lastObservedWall;
  Clock::TimePoint lastWrite{};               // start of the last create or series write
  std::optional<Clock::TimePoint> updateDue;  // set while in updatesDue_
};

EventRecorder::EventRecorder(RestClient& client, Clock& clock, EventRecorderOptions options)
    : client_(client),
      clock_(clock),
      options_(validated(clock, std::move(options))),
      reportingInstance_(options_.reportingInstance.empty() ? hostname()
                                                            : options_.reportingInstance),
      budgetIdleTtl_(std::chrono::duration_cast<Clock::Duration>(
          std::chrono::duration<double>(options_.perObjectBurst / options_.perObjectQps))),
      random_(std::random_device{}()),
      nextGarbageCollection_(clock.now() + kGarbageCollectionPeriod) {
  sender_ = std::thread([this] { sendLoop(); });
}

EventRecorder::~EventRecorder() {
  stop();
}

EventRecorderStats EventRecorder::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::string EventRecorder::eventName(const std::string& objectName) {
  char suffix[kSuffixLength + 1];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(random_()));
  return objectName.substr(0, kNameLimit - kSuffixLength - 1) + "." + suffix;
}

void EventRecorder::record(const nlohmann::json& object, EventType type, const std::string& reason,
                           const std::string& action, const std::string& note) {
  static const nlohmann::json kNoMetadata = nlohmann::json::object();
  const auto metadataIt = object.is_object() ? object.find("metadata") : object.end();
  const nlohmann::json& metadata =
      object.is_object() && metadataIt != object.end() ? *metadataIt : kNoMetadata;

  nlohmann::json regarding = nlohmann::json::object();
  for (const auto& [field, value] :
       {std::pair{"apiVersion", stringField(object, "apiVersion")},
        std::pair{"kind", stringField(object, "kind")},
        std::pair{"name", stringField(metadata, "name")},
        std::pair{"namespace", stringField(metadata, "namespace")},
        std::pair{"uid", stringField(metadata, "uid")},
        std::pair{"resourceVersion", stringField(metadata, "resourceVersion")}}) {
    if (!value.empty()) regarding[field] = value;
  }
  const std::string name = regarding.value("name", "");
  const std::string objectNamespace = regarding.value("namespace", "");
  // Without a uid (an object not yet created) fall back to its reference.
  const std::string uid = regarding.value("uid", "");
  const std::string objectKey = !uid.empty() ? uid
                                             : regarding.value("apiVersion", "") + "/" +
                                                   regarding.value("kind", "") + "/" +
                                                   objectNamespace + "/" + name;
  const std::string safeReason = truncateUtf8(reason, kReasonLimitBytes);
  const std::string safeAction = truncateUtf8(action, kReasonLimitBytes);
  const std::string safeNote = truncateUtf8(note, kNoteLimitBytes);
  std::string key = objectKey;
  for (const std::string* part : {&safeReason, &safeAction, &safeNote}) {
    key += '\0';
    key += *part;
  }
  key += '\0';
  key += typeName(type);

  std::lock_guard lock(mutex_);
  stats_.recorded++;
  if (stopping_) {
    stats_.droppedStopped++;
    return;
  }
  if (name.empty()) {
    stats_.droppedInvalid++;
    return;
  }
  const Clock::TimePoint now = clock_.now();
  if (auto it = series_.find(key);
      it != series_.end() && now < it->second->lastObserved + options_.aggregationWindow) {
    Series& series = *it->second;
    series.count++;
    series.lastObserved = now;
    series.lastObservedWall = clock_.wallNow();
    stats_.aggregated++;
    // Until the Event exists the sender has nothing to update; it schedules one after creating.
    if (series.state == Series::State::Created) scheduleSeriesUpdate(it->second);
    return;
  }
  if (createQueue_.size() >= options_.queueCapacity) {
    stats_.droppedQueueFull++;
    return;
  }
  ObjectBudget& budget = budgets_[objectKey];
  if (!budget.bucket) {
    budget.bucket =
        std::make_unique<TokenBucket>(clock_, options_.perObjectQps, options_.perObjectBurst);
  }
  budget.lastUsed = now;
  if (!budget.bucket->tryAccept()) {
    stats_.droppedRateLimited++;
    return;
  }

  auto series = std::make_shared<Series>();
  series->key = key;
  // Events about cluster-scoped objects live in "default", as client-go puts them.
  series->eventNamespace = objectNamespace.empty() ? "default" : objectNamespace;
  series->objectName = name;
  series->lastObserved = now;
  series->lastObservedWall = clock_.wallNow();
  series->event = {{"apiVersion", resources::kEvents.apiVersion()},
                   {"kind", resources::kEvents.kind},
                   {"metadata", {{"name", eventName(name)}, {"namespace", series->eventNamespace}}},
                   {"eventTime", formatMicroTime(series->lastObservedWall)},
                   {"reportingController", options_.reportingController},
                   {"reportingInstance", reportingInstance_},
                   {"regarding", std::move(regarding)},
                   {"type", typeName(type)},
                   {"reason", safeReason},
                   {"action", safeAction},
                   {"note", safeNote}};
  series_[key] = series;
  createQueue_.push_back(std::move(series));
  cv_.notify_all();
}

void EventRecorder::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      flushDeadline_ = clock_.now() + options_.flushTimeout;
      cv_.notify_all();
    }
  }
  if (sendingRecorder == this) return;
  std::lock_guard join(joinMutex_);
  if (sender_.joinable()) sender_.join();
}

void EventRecorder::scheduleSeriesUpdate(const SeriesSharedPtr& series) {
  if (series->updateDue || series->count <= series->sentCount) return;
  const Clock::TimePoint due = series->lastWrite + options_.seriesUpdateInterval;
  series->updateDue = due;
  updatesDue_.emplace(due, series);
  cv_.notify_all();
}

void EventRecorder::unscheduleSeriesUpdate(const SeriesSharedPtr& series) {
  if (!series->updateDue) return;
  auto [first, last] = updatesDue_.equal_range(*series->updateDue);
  for (auto it = first; it != last; ++it) {
    if (it->second == series) {
      updatesDue_.erase(it);
      break;
    }
  }
  series->updateDue.reset();
}

void EventRecorder::collectGarbage(Clock::TimePoint now) {
  if (now < nextGarbageCollection_) return;
  nextGarbageCollection_ = now + kGarbageCollectionPeriod;
  // Quiet series can go; one with a pending update stays until the update has been sent.
  for (auto it = series_.begin(); it != series_.end();) {
    const Series& series = *it->second;
    const bool quiet = now >= series.lastObserved + options_.aggregationWindow;
    if (quiet && series.state == Series::State::Created && !series.updateDue) {
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
  // A budget unused for burst/qps is full again, the same as a new one.
  for (auto it = budgets_.begin(); it != budgets_.end();) {
    it = now - it->second.lastUsed >= budgetIdleTtl_ ? budgets_.erase(it) : std::next(it);
  }
}

void EventRecorder::sendLoop() {
  sendingRecorder = this;
  std::unique_lock lock(mutex_);
  while (true) {
    const Clock::TimePoint now = clock_.now();
    if (stopping_ && now >= flushDeadline_) {
      if (!createQueue_.empty() || !updatesDue_.empty()) {
        spdlog::warn("event recorder: flush timed out, dropping {} events and {} series updates",
                     createQueue_.size(), updatesDue_.size());
      }
      stats_.droppedStopped += createQueue_.size();
      createQueue_.clear();
      for (auto& [due, series] : updatesDue_)
        series->updateDue.reset();
      updatesDue_.clear();
      return;
    }
    collectGarbage(now);
    if (!createQueue_.empty()) {
      SeriesSharedPtr series = std::move(createQueue_.front());
      createQueue_.pop_front();
      create(series, lock);
      continue;
    }
    if (!updatesDue_.empty() && (stopping_ || updatesDue_.begin()->first <= now)) {
      SeriesSharedPtr series = updatesDue_.begin()->second;
      updatesDue_.erase(updatesDue_.begin());
      series->updateDue.reset();
      updateSeries(series, lock);
      continue;
    }
    if (stopping_) return;
    if (updatesDue_.empty()) {
      cv_.wait(lock);  // nothing is timed: only record() or stop() can bring work
    } else {
      clock_.waitUntil(cv_, lock, updatesDue_.begin()->first);
    }
  }
}

void EventRecorder::create(const SeriesSharedPtr& series, std::unique_lock<std::mutex>& lock) {
  series->state = Series::State::Creating;
  series->lastWrite = clock_.now();
  const nlohmann::json event = series->event;
  const std::string eventNamespace = series->eventNamespace;
  lock.unlock();
  auto created = client_.create(resources::kEvents, eventNamespace, event);
  if (!created) {
    spdlog::warn("event recorder: creating event {} ({} {}) failed: {}",
                 event["metadata"]["name"].get<std::string>(), event["reason"].get<std::string>(),
                 event["regarding"].value("name", ""), created.error().toString());
  }
  lock.lock();
  if (!created) {
    stats_.failed++;
    // Forget it, so the next identical record tries a fresh Event instead of updating nothing.
    if (auto it = series_.find(series->key); it != series_.end() && it->second == series) {
      series_.erase(it);
    }
    return;
  }
  stats_.created++;
  series->state = Series::State::Created;
  series->sentCount = 1;
  scheduleSeriesUpdate(series);  // repeats recorded while the create was queued or in flight
}

void EventRecorder::updateSeries(const SeriesSharedPtr& series,
                                 std::unique_lock<std::mutex>& lock) {
  const int64_t count = series->count;
  const nlohmann::json seriesField = {
      {"count", count}, {"lastObservedTime", formatMicroTime(series->lastObservedWall)}};
  const std::string eventNamespace = series->eventNamespace;
  const std::string name = series->event["metadata"]["name"];
  nlohmann::json replacement = series->event;
  replacement["metadata"]["name"] = eventName(series->objectName);
  replacement["series"] = seriesField;
  series->lastWrite = clock_.now();
  lock.unlock();

  auto written = client_.patch(resources::kEvents, eventNamespace, name, PatchType::Merge,
                               nlohmann::json{{"series", seriesField}}.dump());
  bool replaced = false;
  if (!written && written.error().isNotFound()) {
    // The apiserver's Event TTL (1 h by default) removed it while the series went on.
    written = client_.create(resources::kEvents, eventNamespace, replacement);
    replaced = written.ok();
  }
  if (!written) {
    spdlog::warn("event recorder: updating series of event {} failed: {}", name,
                 written.error().toString());
  }

  lock.lock();
  if (!written) {
    // Not rescheduled: the counts go out with the update the next repeat schedules.
    stats_.failed++;
    return;
  }
  stats_.seriesUpdates++;
  series->sentCount = count;
  if (replaced) series->event = std::move(replacement);
  scheduleSeriesUpdate(series);  // repeats recorded while this write was in flight
}

}  // namespace kube
