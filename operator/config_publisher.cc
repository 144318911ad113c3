// Coalesced snapshot rebuilds and their publication; see config_publisher.h.
#include "operator/config_publisher.h"

#include <spdlog/spdlog.h>

#include "api/config_stream_protocol.h"
#include "api/proxy_config_codec.h"

namespace meshgate::op {

namespace {
// Snapshot keys: a gateway key and a sidecar key never collide, whatever a Hello names.
constexpr std::string_view kGatewayPrefix = "gateway:";
constexpr std::string_view kSidecarPrefix = "sidecar:";
}  // namespace

class ConfigPublisher::ListenerHandle : public Subscription {
 public:
  ListenerHandle(ConfigPublisher& publisher, std::list<std::function<void()>>::iterator it)
      : publisher_(publisher), it_(it) {}
  ~ListenerHandle() override {
    std::lock_guard lock(publisher_.listenersMutex_);
    publisher_.listeners_.erase(it_);
  }

 private:
  ConfigPublisher& publisher_;
  std::list<std::function<void()>>::iterator it_;
};

class ConfigPublisher::SidecarHandle : public Subscription {
 public:
  SidecarHandle(ConfigPublisher& publisher, std::string key)
      : publisher_(publisher), key_(std::move(key)) {}
  ~SidecarHandle() override { publisher_.release(key_); }

 private:
  ConfigPublisher& publisher_;
  const std::string key_;
};

ConfigPublisher::ConfigPublisher(GatewayCaches gatewayCaches, SidecarCaches sidecarCaches,
                                 ConfigPublisherOptions options)
    : gatewayCaches_(gatewayCaches), sidecarCaches_(sidecarCaches), options_(options) {}

ConfigPublisher::~ConfigPublisher() {
  stop();
}

std::string ConfigPublisher::gatewayKey(const std::string& ingressClass) {
  return std::string(kGatewayPrefix) + ingressClass;
}

std::string ConfigPublisher::sidecarKey(const api::WorkloadIdentity& identity) {
  return std::string(kSidecarPrefix) + api::spiffeId(identity);
}

void ConfigPublisher::ready() {
  {
    std::lock_guard lock(mutex_);
    if (ready_) return;
    ready_ = true;
  }
  thread_ = std::thread([this] { run(); });
  wake_.notify_all();
}

void ConfigPublisher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ConfigPublisher::changed(Change change) {
  {
    std::lock_guard lock(mutex_);
    switch (change) {
      case Change::kRoutes:
        routesDirty_ = gatewaysDirty_ = true;
        break;
      case Change::kMeshServices:
        routesDirty_ = gatewaysDirty_ = sidecarsDirty_ = true;
        break;
      case Change::kEndpoints:
        gatewaysDirty_ = sidecarsDirty_ = true;
        break;
      case Change::kSecrets:
        gatewaysDirty_ = true;
        break;
      case Change::kServices:
        sidecarsDirty_ = true;
        break;
    }
    if (dirtySince_) return;  // the pending rebuild will see this change too
    dirtySince_ = std::chrono::steady_clock::now();
  }
  wake_.notify_all();
}

void ConfigPublisher::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait(lock, [&] { return stopping_ || dirtySince_.has_value(); });
    if (stopping_) break;
    // Coalesce: rebuild `coalesce` after the first change of the burst.
    const auto due = *dirtySince_ + options_.coalesce;
    if (wake_.wait_until(lock, due, [&] { return stopping_; })) break;
    const auto firstChange = *dirtySince_;
    dirtySince_.reset();
    const bool routesChanged = routesDirty_;
    const bool gateways = gatewaysDirty_;
    const bool sidecars = sidecarsDirty_;
    routesDirty_ = gatewaysDirty_ = sidecarsDirty_ = false;
    std::vector<std::string> gatewayKeys;
    std::vector<std::string> sidecarKeys;
    for (const auto& [key, target] : targets_)
      (target.sidecar ? sidecarKeys : gatewayKeys).push_back(key);
    lock.unlock();
    bool published = false;
    if (gateways) {
      for (const auto& key : gatewayKeys)
        published = rebuild(key, firstChange, routesChanged) || published;
    }
    if (sidecars && !sidecarKeys.empty()) {
      // What every identity's snapshot is made of, read and decoded once for all of them.
      const SidecarInputs inputs = buildSidecarInputs(sidecarCaches_);
      for (const auto& key : sidecarKeys)
        published = rebuild(key, firstChange, false, &inputs) || published;
    }
    if (published) notify();
    lock.lock();
  }
}

bool ConfigPublisher::rebuild(const std::string& key,
                              std::chrono::steady_clock::time_point firstChange, bool routesChanged,
                              const SidecarInputs* sidecarInputs) {
  Target target;
  {
    std::lock_guard lock(mutex_);
    const auto found = targets_.find(key);
    if (found == targets_.end()) return false;  // forgotten since (its last sidecar left)
    target = found->second;
  }
  std::lock_guard build(buildMutex_);
  const auto started = std::chrono::steady_clock::now();
  BuiltSnapshot built;
  bool full = false;
  if (target.sidecar) {
    built = sidecarInputs ? assembleSidecarSnapshot(*sidecarInputs, *target.sidecar)
                          : buildSidecarSnapshot(sidecarCaches_, *target.sidecar);
  } else {
    // routes_ is only touched under buildMutex_.
    auto cached = routes_.find(target.ingressClass);
    full = routesChanged || cached == routes_.end();
    if (full) {
      cached = routes_
                   .insert_or_assign(target.ingressClass,
                                     buildGatewayRoutes(gatewayCaches_, target.ingressClass))
                   .first;
    }
    built = assembleGatewaySnapshot(cached->second, gatewayCaches_, options_.gateway);
  }
  {
    std::lock_guard lock(mutex_);
    buildsTotal_++;
    if (full) routeBuildsTotal_++;
    if (target.sidecar) sidecarBuildsTotal_++;
    const auto found = current_.find(key);
    if (found != current_.end() && found->second.snapshot->version == built.version) return false;
  }
  const std::string version = built.version;
  const std::size_t routes = built.config.routes.size();
  const std::size_t clusters = built.config.clusters.size();
  const std::size_t outbound = built.config.mesh ? built.config.mesh->outbound.size() : 0;
  const std::size_t inbound = built.config.mesh ? built.config.mesh->inbound.size() : 0;
  const std::size_t bytes = publish(key, std::move(built), firstChange);
  if (bytes == 0) return false;
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  if (target.sidecar) {
    // One per identity and change: at debug, or a busy mesh floods the log.
    spdlog::debug(
        "sidecar config for {}: version {} ({} outbound services, {} clusters, {} inbound ports, "
        "{} bytes, built in {} ms)",
        api::spiffeId(*target.sidecar), version, outbound, clusters, inbound, bytes, took);
  } else {
    spdlog::info(
        "gateway config for ingress class {}: version {} ({} routes, {} clusters, {} bytes, "
        "built in {} ms)",
        target.ingressClass, version, routes, clusters, bytes, took);
  }
  return true;
}

std::size_t ConfigPublisher::publish(const std::string& key, BuiltSnapshot built,
                                     std::chrono::steady_clock::time_point firstChange) {
  std::shared_ptr<const api::stream::SplitConfig> previousSplit;
  {
    std::lock_guard lock(mutex_);
    const auto found = current_.find(key);
    if (found != current_.end()) previousSplit = found->second.split;
  }
  // Split first (sharing the unchanged elements with the previous version), then join: the
  // whole config is serialized once.
  auto split = std::make_shared<const api::stream::SplitConfig>(
      api::stream::splitConfig(api::encodeProxyConfig(built.config), previousSplit.get()));
  const std::string configJson = api::stream::joinConfig(*split);
  PublishedVersion version;
  auto snapshot = std::make_shared<PublishedSnapshot>();
  snapshot->version = built.version;
  snapshot->frame = api::stream::encodeSnapshotFrame(built.version, configJson);
  version.configBytes = configJson.size();
  version.snapshot = std::move(snapshot);
  version.version = built.version;
  version.split = std::move(split);
  version.contents = std::make_shared<const SnapshotContents>(std::move(built.contents));
  version.firstChangeAt = firstChange;
  {
    std::lock_guard deltas(deltasMutex_);
    std::lock_guard lock(mutex_);
    if (targets_.count(key) == 0) return 0;  // forgotten while it was built
    current_[key] = version;
    deltas_.erase(key);
    auto& history = history_[key];
    // History keeps what ACKs and deltas need, not the frame.
    PublishedVersion remembered = version;
    remembered.snapshot = nullptr;
    history.push_back(std::move(remembered));
    while (history.size() > options_.keepVersions)
      history.pop_front();
  }
  return version.configBytes;
}

void ConfigPublisher::release(const std::string& key) {
  std::lock_guard deltas(deltasMutex_);
  std::lock_guard lock(mutex_);
  const auto found = targets_.find(key);
  if (found == targets_.end()) return;
  if (found->second.holders > 0) found->second.holders--;
  if (found->second.holders > 0) return;
  targets_.erase(found);
  current_.erase(key);
  history_.erase(key);
  deltas_.erase(key);
}

void ConfigPublisher::notify() {
  std::vector<std::function<void()>> listeners;
  {
    std::lock_guard lock(listenersMutex_);
    listeners.assign(listeners_.begin(), listeners_.end());
  }
  for (const auto& listener : listeners)
    listener();
}

PublishedSnapshotPtr ConfigPublisher::snapshotOf(const std::string& key, const Target& target) {
  {
    std::lock_guard lock(mutex_);
    if (!ready_) return nullptr;
    const auto found = current_.find(key);
    if (found != current_.end()) return found->second.snapshot;
    targets_.try_emplace(key, target);
  }
  // The first proxy of a class or identity: build it now rather than make it wait for a change.
  rebuild(key, std::chrono::steady_clock::now(), true);
  std::lock_guard lock(mutex_);
  const auto found = current_.find(key);
  return found == current_.end() ? nullptr : found->second.snapshot;
}

PublishedSnapshotPtr ConfigPublisher::updateOf(const std::string& key, const Target& target,
                                               const std::string& fromVersion) {
  PublishedSnapshotPtr full = snapshotOf(key, target);
  if (!full || fromVersion.empty() || fromVersion == full->version) return full;
  std::lock_guard deltas(deltasMutex_);
  std::shared_ptr<const api::stream::SplitConfig> base;
  std::shared_ptr<const api::stream::SplitConfig> targetSplit;
  {
    std::lock_guard lock(mutex_);
    const auto current = current_.find(key);
    // A newer version was published meanwhile (or the snapshot was forgotten): the session asks
    // again after this write.
    if (current == current_.end() || current->second.version != full->version) return full;
    targetSplit = current->second.split;
    auto& cached = deltas_[key];
    if (const auto found = cached.find(fromVersion); found != cached.end()) return found->second;
    for (const auto& remembered : history_[key])
      if (remembered.version == fromVersion) base = remembered.split;
  }
  // Too old to diff against (or another snapshot's): the whole snapshot.
  PublishedSnapshotPtr out = full;
  if (base) {
    auto delta = std::make_shared<PublishedSnapshot>();
    delta->version = full->version;
    delta->base = fromVersion;
    delta->frame = api::stream::encodeDeltaFrame(full->version, fromVersion, *base, *targetSplit);
    if (delta->frame.size() < full->frame.size()) out = std::move(delta);
  }
  std::lock_guard lock(mutex_);
  // deltasMutex_ is held: no new version can have replaced the cache since the check above.
  deltas_[key].emplace(fromVersion, out);
  return out;
}

PublishedSnapshotPtr ConfigPublisher::gatewaySnapshot(const std::string& ingressClass) {
  return snapshotOf(gatewayKey(ingressClass), Target{.ingressClass = ingressClass});
}

PublishedSnapshotPtr ConfigPublisher::gatewayUpdate(const std::string& ingressClass,
                                                    const std::string& fromVersion) {
  return updateOf(gatewayKey(ingressClass), Target{.ingressClass = ingressClass}, fromVersion);
}

PublishedSnapshotPtr ConfigPublisher::sidecarSnapshot(const api::WorkloadIdentity& identity) {
  return snapshotOf(sidecarKey(identity), Target{.sidecar = identity});
}

PublishedSnapshotPtr ConfigPublisher::sidecarUpdate(const api::WorkloadIdentity& identity,
                                                    const std::string& fromVersion) {
  return updateOf(sidecarKey(identity), Target{.sidecar = identity}, fromVersion);
}

SubscriptionPtr ConfigPublisher::keepSidecar(const api::WorkloadIdentity& identity) {
  std::string key = sidecarKey(identity);
  {
    std::lock_guard lock(mutex_);
    Target& target = targets_[key];
    target.sidecar = identity;
    target.holders++;
  }
  return std::make_unique<SidecarHandle>(*this, std::move(key));
}

SubscriptionPtr ConfigPublisher::subscribe(std::function<void()> listener) {
  std::lock_guard lock(listenersMutex_);
  listeners_.push_back(std::move(listener));
  return std::make_unique<ListenerHandle>(*this, std::prev(listeners_.end()));
}

SnapshotContentsPtr ConfigPublisher::contentsOf(const std::string& version) const {
  std::lock_guard lock(mutex_);
  // Gateway keys sort together, by their common prefix.
  for (auto it = history_.lower_bound(std::string(kGatewayPrefix));
       it != history_.end() && it->first.starts_with(kGatewayPrefix); ++it) {
    for (auto v = it->second.rbegin(); v != it->second.rend(); ++v)
      if (v->version == version) return v->contents;
  }
  return nullptr;
}

std::optional<PublishedVersion> ConfigPublisher::current(const std::string& ingressClass) const {
  std::lock_guard lock(mutex_);
  const auto found = current_.find(gatewayKey(ingressClass));
  if (found == current_.end()) return std::nullopt;
  return found->second;
}

std::optional<PublishedVersion> ConfigPublisher::currentSidecar(
    const api::WorkloadIdentity& identity) const {
  std::lock_guard lock(mutex_);
  const auto found = current_.find(sidecarKey(identity));
  if (found == current_.end()) return std::nullopt;
  return found->second;
}

std::vector<std::string> ConfigPublisher::classes() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [key, version] : current_)
    if (key.starts_with(kGatewayPrefix)) out.push_back(key.substr(kGatewayPrefix.size()));
  return out;
}

std::vector<api::WorkloadIdentity> ConfigPublisher::sidecars() const {
  std::lock_guard lock(mutex_);
  std::vector<api::WorkloadIdentity> out;
  for (const auto& [key, target] : targets_)
    if (target.sidecar) out.push_back(*target.sidecar);
  return out;
}

std::uint64_t ConfigPublisher::buildsTotal() const {
  std::lock_guard lock(mutex_);
  return buildsTotal_;
}

std::pair<std::uint64_t, std::uint64_t> ConfigPublisher::buildCounts() const {
  std::lock_guard lock(mutex_);
  return {routeBuildsTotal_, buildsTotal_ - routeBuildsTotal_ - sidecarBuildsTotal_};
}

std::uint64_t ConfigPublisher::sidecarBuildsTotal() const {
  std::lock_guard lock(mutex_);
  return sidecarBuildsTotal_;
}

}  // namespace meshgate::op
