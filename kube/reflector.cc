// Reflector: the list-then-watch loop with resume, relist on Gone, and backoff.
#include "kube/reflector.h"

#include <random>

#include <spdlog/spdlog.h>

#include "kube/watcher.h"

namespace kube {

namespace {
std::string resourceVersionOf(const nlohmann::json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  return metadata->value("resourceVersion", "");
}

std::minstd_rand& randomEngine() {
  thread_local std::minstd_rand engine{std::random_device{}()};
  return engine;
}
}  // namespace

Reflector::Reflector(RestClient& client, GroupVersionResource gvr, std::string ns,
                     ReflectorOptions options, ReflectorSink& sink, Clock& clock)
    : client_(client),
      gvr_(std::move(gvr)),
      ns_(std::move(ns)),
      options_(options),
      sink_(sink),
      clock_(clock),
      nextBackoff_(options.initialBackoff) {}

Reflector::~Reflector() {
  stop();
}

std::string Reflector::lastResourceVersion() const {
  std::lock_guard lock(mutex_);
  return lastResourceVersion_;
}

void Reflector::stop() {
  std::lock_guard lock(mutex_);
  stopped_.store(true);
  if (currentWatcher_ != nullptr) currentWatcher_->stop();
  wake_.notify_all();
}

void Reflector::resetBackoff() {
  nextBackoff_ = options_.initialBackoff;
}

void Reflector::backoff() {
  // Full jitter on the upper half: [backoff/2, backoff).
  const auto base = nextBackoff_;
  const auto half = std::max<int64_t>(1, base.count() / 2);
  const auto wait = std::chrono::milliseconds(half + static_cast<int64_t>(randomEngine()() % half));
  nextBackoff_ = std::min(nextBackoff_ * 2, options_.maxBackoff);
  std::unique_lock lock(mutex_);
  clock_.waitUntil(wake_, lock, clock_.now() + wait, [this] { return stopped(); });
}

void Reflector::run() {
  while (!stopped()) {
    if (!listAndReplace()) {
      backoff();
      continue;
    }
    resetBackoff();
    watchUntilGone();
  }
}

bool Reflector::listAndReplace() {
  ListOptions options;
  options.labelSelector = options_.labelSelector;
  options.fieldSelector = options_.fieldSelector;
  options.limit = options_.pageSize;
  listCount_++;
  auto list = client_.listAll(gvr_, ns_, options);
  if (!list) {
    spdlog::warn("reflector {}: list failed: {}", gvr_.toString(), list.error().toString());
    return false;
  }
  auto& items = (*list)["items"];
  std::vector<StoreEntry> entries;
  entries.reserve(items.size());
  for (auto& item : items) {
    // Lists omit apiVersion/kind on items; restore them so objects look like watch objects.
    item["apiVersion"] = gvr_.apiVersion();
    item["kind"] = gvr_.kind;
    // As the watch decoder does (watch_event_decoder.cc): caches hold no managedFields.
    if (auto metadata = item.find("metadata"); metadata != item.end() && metadata->is_object())
      metadata->erase("managedFields");
    auto object = std::make_shared<const nlohmann::json>(std::move(item));
    entries.push_back({keyOf(*object), std::move(object)});
  }
  const std::string resourceVersion = (*list)["metadata"].value("resourceVersion", "");
  sink_.onReplace(std::move(entries), resourceVersion);
  std::lock_guard lock(mutex_);
  lastResourceVersion_ = resourceVersion;
  return true;
}

bool Reflector::watchUntilGone() {
  while (!stopped()) {
    ListOptions options;
    options.labelSelector = options_.labelSelector;
    options.fieldSelector = options_.fieldSelector;
    options.allowWatchBookmarks = true;
    options.resourceVersion = lastResourceVersion();
    const auto minSeconds = options_.minWatchTimeout.count();
    options.timeoutSeconds = static_cast<int>(
        minSeconds + static_cast<int64_t>(randomEngine()() % std::max<int64_t>(1, minSeconds)));

    auto stream = client_.watchStream(gvr_, ns_, options);
    if (!stream) {
      if (stream.error().isGone()) return false;
      spdlog::warn("reflector {}: watch failed: {}", gvr_.toString(), stream.error().toString());
      backoff();
      continue;
    }
    // The server ends the watch at timeoutSeconds; silence beyond that means a dead connection.
    Watcher watcher(std::move(stream).value(), std::chrono::seconds(options.timeoutSeconds + 60));
    {
      std::lock_guard lock(mutex_);
      if (stopped()) return false;
      currentWatcher_ = &watcher;
    }
    bool gone = false;
    bool failed = false;
    while (true) {
      auto event = watcher.next();
      if (!event) {
        if (event.error().isGone()) {
          gone = true;
        } else if (!event.error().isCancelled()) {
          spdlog::warn("reflector {}: watch broke: {}", gvr_.toString(), event.error().toString());
          failed = true;
        }
        break;
      }
      if (!event->has_value()) break;  // the server ended this watch: start the next one
      const WatchEvent& e = **event;
      const std::string resourceVersion = resourceVersionOf(*e.object);
      if (e.type != WatchEventType::Bookmark) sink_.onWatchEvent(e);
      resetBackoff();
      if (!resourceVersion.empty()) {
        std::lock_guard lock(mutex_);
        lastResourceVersion_ = resourceVersion;
      }
    }
    {
      std::lock_guard lock(mutex_);
      currentWatcher_ = nullptr;
    }
    if (gone) return false;
    if (failed) backoff();
  }
  return false;
}

}  // namespace kube
