// SnapshotSource: where the config server (config_server.h) takes the snapshot each connected
// proxy should serve. The real one is the ConfigPublisher, which builds one snapshot per ingress
// class from the informer caches; tests use a fake. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace meshgate::op {

struct PublishedSnapshot {
  std::string version;
  // The whole encoded Snapshot frame (api::stream::encodeSnapshotFrame), built once per version
  // and shared by every session that sends it.
  std::string frame;
};
using PublishedSnapshotPtr = std::shared_ptr<const PublishedSnapshot>;

// Keeps a listener subscribed while alive.
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

  // `listener` runs after any snapshot changed, on the publisher's thread: it must not block
  // (post to an io_context and call gatewaySnapshot from there).
  virtual SubscriptionPtr subscribe(std::function<void()> listener) = 0;
};

}  // namespace meshgate::op
