// Informer = a Reflector feeding a ThreadSafeStore, plus event handlers and periodic resync —
// the local, indexed, always-fresh cache that controllers read instead of the apiserver.
// Handlers run on the informer's threads and must be quick (they enqueue keys); they are
// serialized, never called concurrently. Readers use store() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kube/clock.h"
#include "kube/reflector.h"
#include "kube/thread_safe_store.h"

namespace kube {

struct EventHandlers {
  std::function<void(const ObjectSharedPtr&)> onAdd;
  // Also called by resync with old == new.
  std::function<void(const ObjectSharedPtr& oldObject, const ObjectSharedPtr& newObject)> onUpdate;
  // The last state the informer knew.
  std::function<void(const ObjectSharedPtr&)> onDelete;
};

struct InformerOptions {
  ReflectorOptions reflector;
  // 0 disables resync; otherwise every object is re-delivered as an update this often.
  std::chrono::milliseconds resyncPeriod{0};
};

class Informer : public ReflectorSink {
 public:
  Informer(RestClient& client, GroupVersionResource gvr, std::string ns, InformerOptions options,
           Clock& clock);
  ~Informer() override;

  // Before start(): handlers and indexers.
  void addEventHandlers(EventHandlers handlers);
  void addIndexer(const std::string& name, IndexFunc fn);

  void start();
  void stop();
  // True once the first list has been stored.
  bool hasSynced() const { return synced_.load(); }
  bool waitForSync(std::chrono::milliseconds timeout);

  const ThreadSafeStore& store() const { return store_; }
  const GroupVersionResource& resource() const { return gvr_; }
  int listCount() const { return reflector_.listCount(); }
  std::string lastResourceVersion() const { return reflector_.lastResourceVersion(); }

  // kube::ReflectorSink
  void onReplace(std::vector<StoreEntry> items, const std::string& resourceVersion) override;
  void onWatchEvent(const WatchEvent& event) override;

 private:
  void resyncLoop();

  GroupVersionResource gvr_;
  InformerOptions options_;
  Clock& clock_;
  ThreadSafeStore store_;
  Reflector reflector_;
  std::vector<EventHandlers> handlers_;
  std::mutex handlerMutex_;  // serializes handler calls between reflector and resync threads

  std::atomic<bool> synced_{false};
  std::atomic<bool> stopped_{false};
  std::mutex syncMutex_;
  std::condition_variable syncCv_;
  std::thread reflectorThread_;
  std::thread resyncThread_;
};

using InformerPtr = std::unique_ptr<Informer>;

}  // namespace kube
