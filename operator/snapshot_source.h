// SnapshotSource: where the config server (config_server.h) takes the snapshot each connected
// proxy should serve — a gateway the snapshot of its ingress class, a sidecar the snapshot of its
// workload identity. The real one is the ConfigPublisher, which builds them from the informer
// caches; tests use a fake. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/mesh_identity.h"

namespace meshgate::op {

// A frame that brings a proxy to `version`: the whole Snapshot
// (api::stream::encodeSnapshotFrame), or a Delta from `base` (api/config_delta.h). Built once and
// shared by every session that sends it.
struct PublishedSnapshot {
  std::string version;
  std::string frame;
  std::string base;  // empty for a Snapshot
};
using PublishedSnapshotPtr = std::shared_ptr<const PublishedSnapshot>;

// Keeps something in place while alive: a listener subscribed, a sidecar snapshot maintained.
class Subscription {
 public:
  virtual ~Subscription() = default;
};
using SubscriptionPtr = std::unique_ptr<Subscription>;

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;

  // What a gateway of `ingressClass` should serve now; nullptr while there is nothing yet (the
  // caches have not synced).
  virtual PublishedSnapshotPtr gatewaySnapshot(const std::string& ingressClass) = 0;

  // What takes a gateway of `ingressClass` that was last sent `fromVersion` to the current version:
  // a Delta when `fromVersion` is recent enough to diff against and the delta is smaller, else the
  // same as gatewaySnapshot(). Returns the current snapshot as is when fromVersion is current.
  virtual PublishedSnapshotPtr gatewayUpdate(const std::string& ingressClass,
                                             const std::string& fromVersion) {
    (void)fromVersion;
    return gatewaySnapshot(ingressClass);
  }

  // What the sidecars of `identity` (already authenticated: its certificate's SPIFFE ID) should
  // serve now; nullptr while there is nothing yet.
  virtual PublishedSnapshotPtr sidecarSnapshot(const api::WorkloadIdentity& identity) = 0;

  // As gatewayUpdate(), for the sidecars of `identity`.
  virtual PublishedSnapshotPtr sidecarUpdate(const api::WorkloadIdentity& identity,
                                             const std::string& fromVersion) {
    (void)fromVersion;
    return sidecarSnapshot(identity);
  }

  // The snapshot of `identity` is kept up to date while a handle lives (a sidecar session holds
  // one while connected); once the last one goes, the source may forget it. nullptr from a source
  // that keeps every snapshot anyway.
  virtual SubscriptionPtr keepSidecar(const api::WorkloadIdentity& identity) {
    (void)identity;
    return nullptr;
  }

  // `listener` runs after any snapshot changed, on the publisher's thread: it must not block
  // (post to an io_context and call gatewaySnapshot/sidecarSnapshot from there).
  virtual SubscriptionPtr subscribe(std::function<void()> listener) = 0;
};

}  // namespace meshgate::op
