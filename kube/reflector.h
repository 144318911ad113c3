// Reflector keeps a sink in step with one collection of the apiserver: list (paged), then watch
// from the list's resourceVersion with bookmarks; on a broken watch it resumes from the last
// resourceVersion it saw, on 410 Gone/Expired it relists, and every failure waits out an
// exponential backoff with jitter. The Informer is its sink. run() blocks its own thread;
// stop() is callable from any thread and returns the loop promptly (an in-flight list finishes
// first, bounded by the request timeout). Objects arrive without metadata.managedFields (what
// controller-runtime's TransformStripManagedFields does): caches are smaller and nothing reads
// them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "kube/clock.h"
#include "kube/group_version_resource.h"
#include "kube/rest_client.h"
#include "kube/thread_safe_store.h"
#include "kube/watch_event.h"

namespace kube {

class Watcher;

// Receives what the reflector learns; called only on the reflector's thread.
class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // A complete list: the sink replaces everything it holds.
  virtual void onReplace(std::vector<StoreEntry> items, const std::string& resourceVersion) = 0;
  virtual void onWatchEvent(const WatchEvent& event) = 0;
};

struct ReflectorOptions {
  std::string labelSelector;
  std::string fieldSelector;
  int64_t pageSize = 500;
  // Each watch asks the server to end it after a random time in [min, 2*min) so that load
  // spreads and connections do not live forever.
  std::chrono::seconds minWatchTimeout{300};
  std::chrono::milliseconds initialBackoff{800};
  std::chrono::milliseconds maxBackoff{30000};
};

class Reflector {
 public:
  Reflector(RestClient& client, GroupVersionResource gvr, std::string ns, ReflectorOptions options,
            ReflectorSink& sink, Clock& clock);
  ~Reflector();

  void run();
  void stop();

  std::string lastResourceVersion() const;
  // How many times the collection was listed (1 + relists); for tests and metrics.
  int listCount() const { return listCount_.load(); }

 private:
  bool listAndReplace();
  // Watches until the watch must be re-listed (returns false) or the reflector stops.
  bool watchUntilGone();
  void backoff();
  void resetBackoff();
  bool stopped() const { return stopped_.load(); }

  RestClient& client_;
  GroupVersionResource gvr_;
  std::string ns_;
  ReflectorOptions options_;
  ReflectorSink& sink_;
  Clock& clock_;

  std::atomic<bool> stopped_{false};
  std::atomic<int> listCount_{0};
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Watcher* currentWatcher_ = nullptr;  // guarded by mutex_
  std::string lastResourceVersion_;    // guarded by mutex_
  std::chrono::milliseconds nextBackoff_;
};

}  // namespace kube
