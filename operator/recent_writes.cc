// Writes in flight towards the cache; see operator/recent_writes.h.
#include "operator/recent_writes.h"

namespace meshgate::op {

void RecentWrites::record(const std::string& key, const std::string& digest,
                          const std::string& cachedVersion, const std::string& writtenVersion) {
  std::lock_guard lock(mutex_);
  writes_[key] = {digest, cachedVersion, writtenVersion};
}

bool RecentWrites::alreadyWritten(const std::string& key, const std::string& digest,
                                  const std::string& cachedVersion) {
  std::lock_guard lock(mutex_);
  const auto it = writes_.find(key);
  if (it == writes_.end()) return false;
  if (it->second.digest == digest && it->second.cachedVersion == cachedVersion &&
      it->second.writtenVersion != cachedVersion) {
    return true;
  }
  writes_.erase(it);
  return false;
}

std::size_t RecentWrites::size() const {
  std::lock_guard lock(mutex_);
  return writes_.size();
}

}  // namespace meshgate::op
