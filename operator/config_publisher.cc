// Coalesced snapshot rebuilds and their publication; see config_publisher.h.
#include "operator/config_publisher.h"

#include <spdlog/spdlog.h>

#include "api/config_stream_protocol.h"
#include "api/proxy_config_codec.h"

namespace meshgate::op {

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

ConfigPublisher::ConfigPublisher(GatewayCaches caches, ConfigPublisherOptions options)
    : caches_(caches), options_(options) {}

ConfigPublisher::~ConfigPublisher() {
  stop();
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
    if (change == Change::kRoutes) routesDirty_ = true;
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
    routesDirty_ = false;
    const std::set<std::string> classes = wanted_;
    lock.unlock();
    bool published = false;
    for (const auto& ingressClass : classes)
      published = rebuild(ingressClass, firstChange, routesChanged) || published;
    if (published) notify();
    lock.lock();
  }
}

bool ConfigPublisher::rebuild(const std::string& ingressClass,
                              std::chrono::steady_clock::time_point firstChange,
                              bool routesChanged) {
  std::lock_guard build(buildMutex_);
  const auto started = std::chrono::steady_clock::now();
  // routes_ is only touched under buildMutex_.
  auto cached = routes_.find(ingressClass);
  const bool full = routesChanged || cached == routes_.end();
  if (full) {
    cached =
        routes_.insert_or_assign(ingressClass, buildGatewayRoutes(caches_, ingressClass)).first;
  }
  GatewaySnapshot built = assembleGatewaySnapshot(cached->second, caches_, options_.ports);
  {
    std::lock_guard lock(mutex_);
    buildsTotal_++;
    if (full) routeBuildsTotal_++;
    const auto found = current_.find(ingressClass);
    if (found != current_.end() && found->second.snapshot->version == built.version) return false;
  }
  std::shared_ptr<const api::stream::SplitConfig> previousSplit;
  {
    std::lock_guard lock(mutex_);
    const auto found = current_.find(ingressClass);
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
    current_[ingressClass] = version;
    deltas_.erase(ingressClass);
    auto& history = history_[ingressClass];
    // History keeps what ACKs and deltas need, not the frame.
    PublishedVersion remembered = version;
    remembered.snapshot = nullptr;
    history.push_back(std::move(remembered));
    while (history.size() > options_.keepVersions)
      history.pop_front();
  }
  spdlog::info(
      "gateway config for ingress class {}: version {} ({} routes, {} clusters, {} bytes, "
      "built in {} ms)",
      ingressClass, built.version, built.config.routes.size(), built.config.clusters.size(),
      version.configBytes,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            started)
          .count());
  return true;
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

PublishedSnapshotPtr ConfigPublisher::gatewaySnapshot(const std::string& ingressClass) {
  {
    std::lock_guard lock(mutex_);
    if (!ready_) return nullptr;
    const auto found = current_.find(ingressClass);
    if (found != current_.end()) return found->second.snapshot;
    wanted_.insert(ingressClass);
  }
  // The first gateway of a class: build it now rather than make it wait for a change.
  rebuild(ingressClass, std::chrono::steady_clock::now(), true);
  std::lock_guard lock(mutex_);
  const auto found = current_.find(ingressClass);
  return found == current_.end() ? nullptr : found->second.snapshot;
}

PublishedSnapshotPtr ConfigPublisher::gatewayUpdate(const std::string& ingressClass,
                                                    const std::string& fromVersion) {
  PublishedSnapshotPtr full = gatewaySnapshot(ingressClass);
  if (!full || fromVersion.empty() || fromVersion == full->version) return full;
  std::lock_guard deltas(deltasMutex_);
  std::shared_ptr<const api::stream::SplitConfig> base;
  std::shared_ptr<const api::stream::SplitConfig> target;
  {
    std::lock_guard lock(mutex_);
    const auto current = current_.find(ingressClass);
    // A newer version was published meanwhile: the session asks again after this write.
    if (current == current_.end() || current->second.version != full->version) return full;
    target = current->second.split;
    auto& cached = deltas_[ingressClass];
    if (const auto found = cached.find(fromVersion); found != cached.end()) return found->second;
    for (const auto& remembered : history_[ingressClass])
      if (remembered.version == fromVersion) base = remembered.split;
  }
  // Too old to diff against (or another class's): the whole snapshot.
  PublishedSnapshotPtr out = full;
  if (base) {
    auto delta = std::make_shared<PublishedSnapshot>();
    delta->version = full->version;
    delta->base = fromVersion;
    delta->frame = api::stream::encodeDeltaFrame(full->version, fromVersion, *base, *target);
    if (delta->frame.size() < full->frame.size()) out = std::move(delta);
  }
  std::lock_guard lock(mutex_);
  // deltasMutex_ is held: no new version can have replaced the cache since the check above.
  deltas_[ingressClass].emplace(fromVersion, out);
  return out;
}

SubscriptionPtr ConfigPublisher::subscribe(std::function<void()> listener) {
  std::lock_guard lock(listenersMutex_);
  listeners_.push_back(std::move(listener));
  return std::make_unique<ListenerHandle>(*this, std::prev(listeners_.end()));
}

SnapshotContentsPtr ConfigPublisher::contentsOf(const std::string& version) const {
  std::lock_guard lock(mutex_);
  for (const auto& [ingressClass, history] : history_)
    for (auto it = history.rbegin(); it != history.rend(); ++it)
      if (it->version == version) return it->contents;
  return nullptr;
}

std::optional<PublishedVersion> ConfigPublisher::current(const std::string& ingressClass) const {
  std::lock_guard lock(mutex_);
  const auto found = current_.find(ingressClass);
  if (found == current_.end()) return std::nullopt;
  return found->second;
}

std::vector<std::string> ConfigPublisher::classes() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [ingressClass, version] : current_)
    out.push_back(ingressClass);
  return out;
}

std::uint64_t ConfigPublisher::buildsTotal() const {
  std::lock_guard lock(mutex_);
  return buildsTotal_;
}

std::pair<std::uint64_t, std::uint64_t> ConfigPublisher::buildCounts() const {
  std::lock_guard lock(mutex_);
  return {routeBuildsTotal_, buildsTotal_ - routeBuildsTotal_};
}

}  // namespace meshgate::op
