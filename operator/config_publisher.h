// ConfigPublisher: the current snapshot of every ingress class a gateway asked for and of every
// workload identity a sidecar asked for, kept up to date from the informer caches. Informer
// handlers call changed(); a burst of changes is coalesced (one rebuild at most `coalesce` after
// the first change of the burst) and rebuilt on the publisher's own thread, never on an
// informer's — only the snapshots the changed kinds of objects feed. A snapshot whose new build
// has the same version as the current one publishes nothing. Each published version is encoded
// once (the Snapshot frame every session sends as is) and remembered with its contents, so that
// an ACK of a recent version can be told apart from one of a stale version, and split into its
// elements, so that a session whose proxy holds a recent version is sent a Delta instead (each
// delta is encoded once and shared by the sessions that need it). Thread-safe.
//
// Gateway snapshots (gateway_config_builder.h) are kept for as long as the process runs: there
// are few ingress classes. Sidecar snapshots (sidecar_config_builder.h), one per workload
// identity, are kept while a session holds keepSidecar() for the identity, and forgotten when the
// last one goes; a sidecar of that identity connecting later has it built again at once.
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
#include <vector>

#include "api/config_delta.h"
#include "api/mesh_identity.h"
#include "operator/dataplane_registry.h"
#include "operator/gateway_config_builder.h"
#include "operator/sidecar_config_builder.h"
#include "operator/snapshot_source.h"

namespace meshgate::op {

struct ConfigPublisherOptions {
  GatewayBuildOptions gateway;
  std::chrono::milliseconds coalesce{100};
  // Versions remembered per snapshot (class or identity) for ACK bookkeeping and deltas.
  std::size_t keepVersions = 32;
};

// One published version of one snapshot.
struct PublishedVersion {
  // The whole Snapshot frame; only the current version of a snapshot keeps it (history does not).
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
  // The two sets of caches name the same informers' stores: each builder is given what it reads.
  ConfigPublisher(GatewayCaches gatewayCaches, SidecarCaches sidecarCaches,
                  ConfigPublisherOptions options);
  ~ConfigPublisher() override;

  // Builds nothing until ready(): call it once the caches have synced. Starts the thread.
  void ready();
  void stop();

  // What changed, and so which snapshots to build again (and how much of them).
  enum class Change {
    kRoutes,        // ApiRoutes, Namespaces: gateways, routes included
    kMeshServices,  // gateways, routes included, and sidecars
    // EndpointSlices, Pods: gateways (the routes of the last build reused) and sidecars.
    kEndpoints,
    kSecrets,   // TLS and auth Secrets: gateways, the routes of the last build reused
    kServices,  // meshgate's Services (their cluster IPs): sidecars
  };
  // Something a snapshot may depend on changed. Cheap; any thread.
  void changed(Change change = Change::kRoutes);

  // SnapshotSource
  PublishedSnapshotPtr gatewaySnapshot(const std::string& ingressClass) override;
  PublishedSnapshotPtr gatewayUpdate(const std::string& ingressClass,
                                     const std::string& fromVersion) override;
  PublishedSnapshotPtr sidecarSnapshot(const api::WorkloadIdentity& identity) override;
  PublishedSnapshotPtr sidecarUpdate(const api::WorkloadIdentity& identity,
                                     const std::string& fromVersion) override;
  SubscriptionPtr keepSidecar(const api::WorkloadIdentity& identity) override;
  SubscriptionPtr subscribe(std::function<void()> listener) override;

  // What `version` of any gateway class holds; nullptr when it is unknown or too old. (Sidecar
  // versions are not asked about: no status counts sidecars.)
  SnapshotContentsPtr contentsOf(const std::string& version) const;
  // The current published version of a class (nullopt before its first build).
  std::optional<PublishedVersion> current(const std::string& ingressClass) const;
  // The current published version of an identity's sidecar snapshot (nullopt when none is kept).
  std::optional<PublishedVersion> currentSidecar(const api::WorkloadIdentity& identity) const;
  // Classes built so far.
  std::vector<std::string> classes() const;
  // Identities whose sidecar snapshot is kept now.
  std::vector<api::WorkloadIdentity> sidecars() const;
  std::uint64_t buildsTotal() const;
  // Gateway builds: {builds that built the routes too, builds that reused them}.
  std::pair<std::uint64_t, std::uint64_t> buildCounts() const;
  std::uint64_t sidecarBuildsTotal() const;

 private:
  class ListenerHandle;
  class SidecarHandle;
  // What a snapshot key builds: the gateways of a class, or the sidecars of an identity.
  struct Target {
    std::string ingressClass{};                      // gateway
    std::optional<api::WorkloadIdentity> sidecar{};  // sidecar
    std::size_t holders = 0;                         // sidecar: live keepSidecar() handles
  };
  static std::string gatewayKey(const std::string& ingressClass);
  static std::string sidecarKey(const api::WorkloadIdentity& identity);

  void run();
  // The current snapshot of `key`, built now (as `target`) when there is none yet.
  PublishedSnapshotPtr snapshotOf(const std::string& key, const Target& target);
  PublishedSnapshotPtr updateOf(const std::string& key, const Target& target,
                                const std::string& fromVersion);
  // Builds `key` and publishes it if its version changed. Returns whether it did. `sidecarInputs`
  // (may be null: built here) serves every sidecar of one rebuild pass.
  bool rebuild(const std::string& key, std::chrono::steady_clock::time_point firstChange,
               bool routesChanged, const SidecarInputs* sidecarInputs = nullptr);
  // Publishes `built` as the current version of `key`; returns its config's size, or 0 when
  // `key` was forgotten meanwhile.
  std::size_t publish(const std::string& key, BuiltSnapshot built,
                      std::chrono::steady_clock::time_point firstChange);
  // A keepSidecar() handle of `key` went.
  void release(const std::string& key);
  void notify();

  GatewayCaches gatewayCaches_;
  SidecarCaches sidecarCaches_;
  ConfigPublisherOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool ready_ = false;
  bool stopping_ = false;
  std::optional<std::chrono::steady_clock::time_point> dirtySince_;
  bool routesDirty_ = false;  // a class never built is built whole anyway
  bool gatewaysDirty_ = false;
  bool sidecarsDirty_ = false;
  std::map<std::string, Target> targets_;  // by key: what is kept up to date
  std::map<std::string, PublishedVersion> current_;
  std::map<std::string, std::deque<PublishedVersion>> history_;  // per key, newest last
  std::uint64_t buildsTotal_ = 0;
  std::uint64_t routeBuildsTotal_ = 0;
  std::uint64_t sidecarBuildsTotal_ = 0;
  std::map<std::string, GatewayRoutes> routes_;  // per class, from the last route build
  // Deltas to the current version of each key, by base version; emptied by each new version.
  std::mutex deltasMutex_;  // taken before mutex_, never after
  std::map<std::string, std::map<std::string, PublishedSnapshotPtr>> deltas_;
  std::mutex buildMutex_;  // one build at a time (the thread or a first request)
  std::mutex listenersMutex_;
  std::list<std::function<void()>> listeners_;
  std::thread thread_;
};

}  // namespace meshgate::op
