// VerifiedTokenCache: remembers tokens whose signature and claims verified, so a client repeating
// its bearer token costs a lookup instead of a signature check. One per worker thread (not
// thread-safe), owned by the JWT authentication filter's per-worker state.
//
// Keyed by the whole token (stored and compared in full, never a hash alone) and by the JwkSet
// object it was verified against, held by shared_ptr so that a rotated-out set stays alive while
// cached and can never alias a newer one at the same address. Bounded; evicts the least recently
// used entry. A hit still needs checkTimes(): expiry is checked per request.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dataplane/auth/jwk_set.h"
#include "dataplane/auth/jwt_verifier.h"

namespace meshgate::auth {

class VerifiedTokenCache {
 public:
  // Capacity 0 caches nothing.
  explicit VerifiedTokenCache(size_t capacity);

  // nullptr on a miss; a hit becomes the most recently used entry.
  std::shared_ptr<const VerifiedJwt> find(std::string_view token,
                                          const std::shared_ptr<const JwkSet>& keys);
  // Replaces an entry for the same token and set.
  void insert(std::string_view token, std::shared_ptr<const JwkSet> keys,
              std::shared_ptr<const VerifiedJwt> jwt);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string token;
    std::shared_ptr<const JwkSet> keys;
    std::shared_ptr<const VerifiedJwt> jwt;
  };
  // Views into the Entry it indexes (list nodes never move).
  struct Key {
    std::string_view token;
    const JwkSet* keys;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const {
      return std::hash<std::string_view>()(key.token) ^ (std::hash<const JwkSet*>()(key.keys) * 31);
    }
  };

  size_t capacity_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
};

}  // namespace meshgate::auth
