// Informer: applies reflector output to the store and fans it out to handlers.
#include "kube/informer.h"

namespace kube {

namespace {
std::string resourceVersionOf(const ObjectSharedPtr& object) {
  auto metadata = object->find("metadata");
  if (metadata == object->end() || !metadata->is_object()) return "";
  return metadata->value("resourceVersion", "");
}
}  // namespace

Informer::Informer(RestClient& client, GroupVersionResource gvr, std::string ns,
                   InformerOptions options, Clock& clock)
    : gvr_(gvr),
      options_(options),
      clock_(clock),
      reflector_(client, std::move(gvr), std::move(ns), options.reflector, *this, clock) {
  store_.addIndexer(std::string(kNamespaceIndex), namespaceIndexFunc);
}

Informer::~Informer() {
  stop();
}

void Informer::addEventHandlers(EventHandlers handlers) {
  std::lock_guard lock(handlerMutex_);
  handlers_.push_back(std::move(handlers));
}

void Informer::addIndexer(const std::string& name, IndexFunc fn) {
  store_.addIndexer(name, std::move(fn));
}

void Informer::start() {
  reflectorThread_ = std::thread([this] { reflector_.run(); });
  if (options_.resyncPeriod.count() > 0) resyncThread_ = std::thread([this] { resyncLoop(); });
}

void Informer::stop() {
  {
    std::lock_guard lock(syncMutex_);
    if (stopped_.exchange(true)) return;
    syncCv_.notify_all();
  }
  reflector_.stop();
  if (reflectorThread_.joinable()) reflectorThread_.join();
  if (resyncThread_.joinable()) resyncThread_.join();
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(syncMutex_);
  return clock_.waitUntil(syncCv_, lock, clock_.now() + timeout, [this] {
    return synced_.load() || stopped_.load();
  }) && synced_.load();
}

void Informer::onReplace(std::vector<StoreEntry> items, const std::string& resourceVersion) {
  // Work out adds and updates before the swap, so handlers see old and new objects.
  std::vector<std::pair<ObjectSharedPtr, ObjectSharedPtr>> changes;
  changes.reserve(items.size());
  for (const auto& entry : items)
    changes.emplace_back(store_.get(entry.key), entry.object);
  auto vanished = store_.replace(std::move(items), resourceVersion);
  {
    std::lock_guard lock(handlerMutex_);
    for (const auto& [oldObject, newObject] : changes) {
      for (const auto& h : handlers_) {
        if (!oldObject) {
          if (h.onAdd) h.onAdd(newObject);
        } else if (resourceVersionOf(oldObject) != resourceVersionOf(newObject)) {
          if (h.onUpdate) h.onUpdate(oldObject, newObject);
        }
      }
    }
    for (const auto& entry : vanished) {
      for (const auto& h : handlers_) {
        if (h.onDelete) h.onDelete(entry.object);
      }
    }
  }
  std::lock_guard lock(syncMutex_);
  synced_.store(true);
  syncCv_.notify_all();
}

void Informer::onWatchEvent(const WatchEvent& event) {
  const std::string key = keyOf(*event.object);
  std::lock_guard lock(handlerMutex_);
  switch (event.type) {
    case WatchEventType::Added:
    case WatchEventType::Modified: {
      auto old = store_.update(key, event.object);
      for (const auto& h : handlers_) {
        if (!old) {
          if (h.onAdd) h.onAdd(event.object);
        } else if (h.onUpdate) {
          h.onUpdate(old, event.object);
        }
      }
      break;
    }
    case WatchEventType::Deleted: {
      auto old = store_.remove(key);
      for (const auto& h : handlers_) {
        if (h.onDelete) h.onDelete(old ? old : event.object);
      }
      break;
    }
    case WatchEventType::Bookmark:
    case WatchEventType::Error:
      break;
  }
}

void Informer::resyncLoop() {
  while (true) {
    {
      std::unique_lock lock(syncMutex_);
      clock_.waitUntil(syncCv_, lock, clock_.now() + options_.resyncPeriod,
                       [this] { return stopped_.load(); });
      if (stopped_.load()) return;
    }
    if (!synced_.load()) continue;
    std::lock_guard lock(handlerMutex_);
    for (const auto& object : store_.list()) {
      for (const auto& h : handlers_) {
        if (h.onUpdate) h.onUpdate(object, object);
      }
    }
  }
}

}  // namespace kube
