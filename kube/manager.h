// Manager owns a controller process's lifecycle the way controller-runtime's Manager does: it
// starts the parts every replica runs (servers, the informers), waits for the caches, campaigns
// for the Lease when leader election is on, starts the leader's parts (bootstrap, controllers) in
// order once it leads, and on stop — a signal at any moment: while caches sync, while it
// campaigns, in the middle of a bootstrap, after leadership was lost — stops what it started in
// reverse order, joins every thread it made and releases the Lease. Used by meshgate-operator
// and meshgate-webhook.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kube/clock.h"
#include "kube/controller.h"
#include "kube/informer.h"
#include "kube/leader_elector.h"
#include "kube/rest_client.h"
#include "kube/stop_token.h"

namespace kube {

// One part the manager starts and stops.
struct ManagedPart {
  std::string name;
  // Starts it; "" on success, else why it could not start. May block (a bootstrap that retries):
  // it must return promptly once `stop.requested()`, and what it returns then is not an error.
  std::function<std::string(const StopToken& stop)> start;
  // Stops it; called only when start returned "". May block until its threads are joined.
  std::function<void()> stop;
};

enum class ManagerPhase {
  kStartingServers,
  kSyncingCaches,
  kStartingSyncedParts,
  kCampaigning,  // leader election on, not (yet) leading
  kStartingLeaderParts,
  kRunning,  // every part started
  kStopping,
  kStopped,
};
const char* toString(ManagerPhase phase);

struct ManagerLeaderElection {
  RestClient& client;  // a client of its own, so a burst of reconciles cannot starve renewals
  LeaderElectorConfig config;  // the manager sets onStartedLeading and onStoppedLeading
};

struct ManagerOptions {
  std::string name = "manager";  // for logs
  std::optional<ManagerLeaderElection> leaderElection;
  // Caches that have not synced by then end the process (a restart tries again).
  std::chrono::milliseconds cacheSyncTimeout{std::chrono::minutes(2)};
  // Every phase change, on the thread that calls run(); for logs and tests.
  std::function<void(ManagerPhase)> onPhase;
};

class Manager {
 public:
  Manager(Clock& clock, ManagerOptions options);
  // run() must have returned.
  ~Manager();

  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Wiring, before run(). Every replica: servers start first, in order; then the informers (all
  // of them, then waited for); then the parts that need synced caches. The leader — every
  // replica when leader election is off — then starts the leader parts in order.
  void addServer(ManagedPart part);
  void addInformer(Informer& informer);
  void addSyncedPart(ManagedPart part);
  void addLeaderPart(ManagedPart part);
  // A leader part that starts the controller's workers and stops them (in-flight reconciles end).
  void addController(Controller& controller);

  // Runs until requestStop(), a part that fails to start, caches that do not sync, or lost
  // leadership; then stops every started part in reverse order: the leader parts, the elector
  // (which releases the Lease), the synced parts, the informers, the servers. Returns the exit
  // code: 0 after requestStop(), 1 otherwise. Call once.
  int run();
  // Thread-safe, returns at once; run() does the stopping.
  void requestStop();

  // Every part started (and, with leader election, leading).
  bool ready() const { return phase_.load() == ManagerPhase::kRunning; }
  // A standby replica (campaigning) with every part a replica runs whatever its role, or a
  // replica for which ready() holds. What a readiness probe asks when every replica serves
  // traffic (the leader's own parts still starting count as not serving: that lasts a moment).
  bool serving() const {
    const ManagerPhase phase = phase_.load();
    return phase == ManagerPhase::kCampaigning || phase == ManagerPhase::kRunning;
  }
  ManagerPhase phase() const { return phase_.load(); }

 private:
  enum class Outcome { kStopRequested, kFailed };

  void enterPhase(ManagerPhase phase);
  // Starts `parts` in order into `started`; false when one failed or stop came.
  bool startParts(const std::vector<ManagedPart>& parts, std::vector<const ManagedPart*>& started,
                  const StopToken& stop);
  static void stopParts(std::vector<const ManagedPart*>& started);
  bool waitForCaches(const StopToken& stop);
  void fail(const std::string& why);

  Clock& clock_;
  ManagerOptions options_;
  std::vector<ManagedPart> servers_;
  std::vector<Informer*> informers_;
  std::vector<ManagedPart> syncedParts_;
  std::vector<ManagedPart> leaderParts_;

  std::atomic<ManagerPhase> phase_{ManagerPhase::kStartingServers};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopRequested_ = false;  // under mutex_
  bool failed_ = false;         // under mutex_: a start failed, caches did not sync, lost the Lease
  bool leading_ = false;        // under mutex_

  std::unique_ptr<LeaderElector> elector_;
  std::thread electorThread_;
};

}  // namespace kube
