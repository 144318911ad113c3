// VerifiedTokenCache: an LRU list of entries and a hash index over (token bytes, JwkSet).
#include "dataplane/auth/verified_token_cache.h"

#include <utility>

namespace meshgate::auth {

VerifiedTokenCache::VerifiedTokenCache(size_t capacity) : capacity_(capacity) {}

std::shared_ptr<const VerifiedJwt> VerifiedTokenCache::find(
    std::string_view token, const std::shared_ptr<const JwkSet>& keys) {
  const auto it = index_.find(Key{token, keys.get()});
  if (it == index_.end()) return nullptr;
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->jwt;
}

void VerifiedTokenCache::insert(std::string_view token, std::shared_ptr<const JwkSet> keys,
                                std::shared_ptr<const VerifiedJwt> jwt) {
  if (capacity_ == 0 || keys == nullptr || jwt == nullptr) return;
  if (const auto it = index_.find(Key{token, keys.get()}); it != index_.end()) {
    it->second->jwt = std::move(jwt);
    entries_.splice(entries_.begin(), entries_, it->second);
    return;
  }
  if (entries_.size() >= capacity_) {
    const Entry& oldest = entries_.back();
    index_.erase(Key{oldest.token, oldest.keys.get()});
    entries_.pop_back();
  }
  entries_.push_front(Entry{std::string(token), std::move(keys), std::move(jwt)});
  const Entry& entry = entries_.front();
  index_.emplace(Key{entry.token, entry.keys.get()}, entries_.begin());
}

}  // namespace meshgate::auth
