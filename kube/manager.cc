// Manager: ordered start, ordered stop; see kube/manager.h.
#include "kube/manager.h"

#include <spdlog/spdlog.h>

namespace kube {

const char* toString(ManagerPhase phase) {
  switch (phase) {
    case ManagerPhase::kStartingServers:
      return "starting servers";
    case ManagerPhase::kSyncingCaches:
      return "syncing caches";
    case ManagerPhase::kStartingSyncedParts:
      return "starting the parts that need synced caches";
    case ManagerPhase::kCampaigning:
      return "campaigning for the Lease";
    case ManagerPhase::kStartingLeaderParts:
      return "starting the leader's parts";
    case ManagerPhase::kRunning:
      return "running";
    case ManagerPhase::kStopping:
      return "stopping";
    case ManagerPhase::kStopped:
      return "stopped";
  }
  return "unknown";
}

Manager::Manager(Clock& clock, ManagerOptions options)
    : clock_(clock), options_(std::move(options)) {}

Manager::~Manager() {
  if (electorThread_.joinable()) {
    elector_->stop();
    electorThread_.join();
  }
}

void Manager::addServer(ManagedPart part) {
  servers_.push_back(std::move(part));
}

void Manager::addInformer(Informer& informer) {
  informers_.push_back(&informer);
}

void Manager::addSyncedPart(ManagedPart part) {
  syncedParts_.push_back(std::move(part));
}

void Manager::addLeaderPart(ManagedPart part) {
  leaderParts_.push_back(std::move(part));
}

void Manager::addController(Controller& controller) {
  addLeaderPart({.name = "controller " + controller.name(),
                 .start = [&controller](const StopToken&) -> std::string {
                   if (controller.start()) return "";
                   return "the caches of controller " + controller.name() + " did not sync";
                 },
                 .stop = [&controller] { controller.stop(); }});
}

void Manager::requestStop() {
  std::lock_guard lock(mutex_);
  stopRequested_ = true;
  cv_.notify_all();
}

void Manager::fail(const std::string& why) {
  spdlog::error("{}: {}; stopping", options_.name, why);
  std::lock_guard lock(mutex_);
  failed_ = true;
  cv_.notify_all();
}

void Manager::enterPhase(ManagerPhase phase) {
  phase_.store(phase);
  spdlog::info("{}: {}", options_.name, toString(phase));
  if (options_.onPhase) options_.onPhase(phase);
}

bool Manager::startParts(const std::vector<ManagedPart>& parts,
                         std::vector<const ManagedPart*>& started, const StopToken& stop) {
  for (const auto& part : parts) {
    if (stop.requested()) return false;
    const std::string problem = part.start(stop);
    if (!problem.empty()) {
      if (!stop.requested()) fail(part.name + ": " + problem);
      return false;
    }
    started.push_back(&part);
  }
  return !stop.requested();
}

void Manager::stopParts(std::vector<const ManagedPart*>& started) {
  for (auto it = started.rbegin(); it != started.rend(); ++it) {
    if ((*it)->stop) (*it)->stop();
  }
  started.clear();
}

bool Manager::waitForCaches(const StopToken& stop) {
  const auto deadline = clock_.now() + options_.cacheSyncTimeout;
  for (auto* informer : informers_) {
    // In slices, so that a stop is noticed while an informer's list keeps failing.
    while (!informer->waitForSync(std::chrono::milliseconds(100))) {
      if (stop.requested()) return false;
      if (clock_.now() >= deadline) {
        const auto ms = options_.cacheSyncTimeout.count();
        fail("the cache of " + informer->resource().toString() + " did not sync within " +
             (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms"));
        return false;
      }
    }
  }
  return !stop.requested();
}

int Manager::run() {
  const StopToken stop(mutex_, cv_, [this] { return stopRequested_ || failed_; });
  std::vector<const ManagedPart*> servers;
  std::vector<const ManagedPart*> synced;
  std::vector<const ManagedPart*> leader;
  bool informersStarted = false;

  enterPhase(ManagerPhase::kStartingServers);
  if (startParts(servers_, servers, stop)) {
    enterPhase(ManagerPhase::kSyncingCaches);
    for (auto* informer : informers_)
      informer->start();
    informersStarted = true;
    if (waitForCaches(stop)) {
      enterPhase(ManagerPhase::kStartingSyncedParts);
      if (startParts(syncedParts_, synced, stop) && options_.leaderElection) {
        enterPhase(ManagerPhase::kCampaigning);
        LeaderElectorConfig config = options_.leaderElection->config;
        config.callbacks.onStartedLeading = [this] {
          std::lock_guard lock(mutex_);
          leading_ = true;
          cv_.notify_all();
        };
        config.callbacks.onStoppedLeading = [this] {
          std::lock_guard lock(mutex_);
          // Another replica may act from now on: stop at once, as controller-runtime does.
          if (!stopRequested_ && !failed_) spdlog::error("{}: leadership lost", options_.name);
          leading_ = false;
          failed_ = failed_ || !stopRequested_;
          cv_.notify_all();
        };
        elector_ = std::make_unique<LeaderElector>(options_.leaderElection->client, clock_, config);
        electorThread_ = std::thread([this] { elector_->run(); });
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return leading_ || stopRequested_ || failed_; });
      }
      if (!stop.requested()) {
        enterPhase(ManagerPhase::kStartingLeaderParts);
        if (startParts(leaderParts_, leader, stop)) enterPhase(ManagerPhase::kRunning);
      }
    }
  }

  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return stopRequested_ || failed_; });
  }
  enterPhase(ManagerPhase::kStopping);
  stopParts(leader);
  if (electorThread_.joinable()) {
    elector_->stop();  // releases the Lease once the leader's parts no longer write
    electorThread_.join();
  }
  stopParts(synced);
  if (informersStarted) {
    for (auto it = informers_.rbegin(); it != informers_.rend(); ++it)
      (*it)->stop();
  }
  stopParts(servers);
  enterPhase(ManagerPhase::kStopped);
  std::lock_guard lock(mutex_);
  return stopRequested_ ? 0 : 1;
}

}  // namespace kube
