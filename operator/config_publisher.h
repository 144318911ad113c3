// ConfigPublisher: the current gateway snapshot of every ingress class a gateway asked for, kept
// up to date from the informer caches. Informer handlers call changed(); a burst of changes is
// coalesced (one rebuild at most `coalesce` after the first change of the burst) and rebuilt on
// the publisher's own thread, never on an informer's. A class whose new build has the same
// version as the current one publishes nothing. Each published version is encoded once (the
// Snapshot frame every session sends as is) and remembered with its contents, so that an ACK of
// a recent version can be told apart from one of a stale version, and split into its elements,
// so that a session whose proxy holds a recent version is sent a Delta instead (each delta is
// encoded once and shared by the sessions that need it). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "api/config_delta.h"
#include "operator/dataplane_registry.h"
#include "operator/gateway_config_builder.h"
#include "operator/snapshot_source.h"

namespace meshgate::op {

struct ConfigPublisherOptions {
  GatewayListenerPorts ports;
  std::chrono::milliseconds coalesce{100};
  // Versions remembered per class for ACK bookkeeping.
  std::size_t keepVersions = 32;
};

// One published version of one class.
struct PublishedVersion {
  // The whole Snapshot frame; only the current version of a class keeps it (history does not).
  PublishedSnapshotPtr snapshot;
  std::string version;
  SnapshotContentsPtr contents;
  std::shared_ptr<const api::stream::SplitConfig> split;
  std::size_t configBytes = 0;
  // When the first change folded into this version was seen (for propagation times).
  std::chrono::steady_clock::time_point firstChangeAt;
};

class ConfigPublisher : public SnapshotSource {
 public:
  ConfigPublisher(GatewayCaches caches, ConfigPublisherOptions options);
  ~ConfigPublisher() override;

  // Builds nothing until ready(): call it once the caches have synced. Starts the thread.
  void ready();
  void stop();

  // What changed: something routes depend on (ApiRoutes, MeshServices, Namespaces), or only what
  // the clusters, listeners and secrets are made of (EndpointSlices, TLS and auth Secrets) — then
  // the routes of the last build are reused and only the rest is built again.
  enum class Change { kRoutes, kEndpoints };
  // Something a snapshot may depend on changed. Cheap; any thread.
  void changed(Change change = Change::kRoutes);

  // SnapshotSource
  PublishedSnapshotPtr gatewaySnapshot(const std::string& ingressClass) override;
  PublishedSnapshotPtr gatewayUpdate(const std::string& ingressClass,
                                     const std::string& fromVersion) override;
  SubscriptionPtr subscribe(std::function<void()> listener) override;

  // What `version` holds (any class); nullptr when it is unknown or too old.
  SnapshotContentsPtr contentsOf(const std::string& version) const;
  // The current published version of a class (nullopt before its first build).
  std::optional<PublishedVersion> current(const std::string& ingressClass) const;
  // Classes built so far.
  std::vector<std::string> classes() const;
  std::uint64_t buildsTotal() const;
  // {builds that built the routes too, builds that reused them (endpoint-only changes)}.
  std::pair<std::uint64_t, std::uint64_t> buildCounts() const;

 private:
  class ListenerHandle;
  void run();
  // Builds `ingressClass` and publishes it if its version changed. Returns whether it did.
  bool rebuild(const std::string& ingressClass, std::chrono::steady_clock::time_point firstChange,
               bool routesChanged);
  void notify();

  GatewayCaches caches_;
  ConfigPublisherOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool ready_ = false;
  bool stopping_ = false;
  std::optional<std::chrono::steady_clock::time_point> dirtySince_;
  bool routesDirty_ = false;  // a class never built is built whole anyway
  std::set<std::string> wanted_;
  std::map<std::string, PublishedVersion> current_;
  std::map<std::string, std::deque<PublishedVersion>> history_;  // per class, newest last
  std::uint64_t buildsTotal_ = 0;
  std::uint64_t routeBuildsTotal_ = 0;
  std::map<std::string, GatewayRoutes> routes_;  // per class, from the last route build
  // Deltas to the current version of each class, by base version; emptied by each new version.
  std::mutex deltasMutex_;  // taken before mutex_, never after
  std::map<std::string, std::map<std::string, PublishedSnapshotPtr>> deltas_;
  std::mutex buildMutex_;  // one build at a time (the thread or a first gatewaySnapshot)
  std::mutex listenersMutex_;
  std::list<std::function<void()>> listeners_;
  std::thread thread_;
};

}  // namespace meshgate::op
