// Writes on their way to the cache; see operator/recent_writes.h.
#include "operator/recent_writes.h"

#include <algorithm>

namespace meshgate::op {

void RecentWrites::begin(const std::string& key) {
  std::lock_guard lock(mutex_);
  writes_[key] = Write{};
}

void RecentWrites::record(const std::string& key, const std::string& digest,
                          const std::string& cachedVersion, const std::string& writtenVersion) {
  std::lock_guard lock(mutex_);
  const auto it = writes_.find(key);
  if (it == writes_.end()) return;
  const auto& seen = it->second.seenInFlight;
  // Its own event came back already, or the object was deleted meanwhile: the cache is past it.
  if (writtenVersion.empty() ||
      std::any_of(seen.begin(), seen.end(), [&](const std::string& version) {
        return version == writtenVersion || version.empty();
      })) {
    writes_.erase(it);
    return;
  }
  it->second = Write{.inFlight = false,
                     .seenInFlight = {},
                     .digest = digest,
                     .cachedVersion = cachedVersion,
                     .writtenVersion = writtenVersion};
}

void RecentWrites::abandon(const std::string& key) {
  std::lock_guard lock(mutex_);
  writes_.erase(key);
}

bool RecentWrites::alreadyWritten(const std::string& key, const std::string& digest,
                                  const std::string& cachedVersion) {
  std::lock_guard lock(mutex_);
  const auto it = writes_.find(key);
  if (it == writes_.end() || it->second.inFlight) return false;
  if (it->second.digest == digest && it->second.cachedVersion == cachedVersion) return true;
  writes_.erase(it);
  return false;
}

void RecentWrites::observed(const std::string& key, const std::string& version) {
  std::lock_guard lock(mutex_);
  const auto it = writes_.find(key);
  if (it == writes_.end()) return;
  if (it->second.inFlight) {
    it->second.seenInFlight.push_back(version);
  } else {
    writes_.erase(it);
  }
}

kube::EventHandlers RecentWrites::forgetOnEvents(std::string resource) {
  auto versionOf = [](const nlohmann::json& object) {
    return object["metadata"].value("resourceVersion", "");
  };
  return {[this, resource, versionOf](const kube::ObjectSharedPtr& object) {
            observed(resource + "/" + kube::keyOf(*object), versionOf(*object));
          },
          [this, resource, versionOf](const kube::ObjectSharedPtr&,
                                      const kube::ObjectSharedPtr& newObject) {
            observed(resource + "/" + kube::keyOf(*newObject), versionOf(*newObject));
          },
          [this, resource](const kube::ObjectSharedPtr& object) {
            observed(resource + "/" + kube::keyOf(*object), "");
          }};
}

std::size_t RecentWrites::size() const {
  std::lock_guard lock(mutex_);
  return writes_.size();
}

}  // namespace meshgate::op
