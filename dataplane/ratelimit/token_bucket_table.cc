// TokenBucketTable: sharded, LRU-bounded token buckets in GCRA form (see the header).
#include "dataplane/ratelimit/token_bucket_table.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace meshgate::ratelimit {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
// About 73 years: keeps every sum of a time point and the capacity far from overflow.
constexpr std::int64_t kMaxCapacity = std::numeric_limits<std::int64_t>::max() / 4;

std::int64_t intervalFor(double tokensPerSecond) {
  // A rate that is not positive (or NaN) never refills.
  if (!(tokensPerSecond > 0)) return kMaxCapacity;
  const double interval = std::ceil(static_cast<double>(kNanosPerSecond) / tokensPerSecond);
  if (interval >= static_cast<double>(kMaxCapacity)) return kMaxCapacity;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(interval));
}

std::int64_t capacityFor(std::uint64_t burst, std::int64_t interval) {
  if (burst > static_cast<std::uint64_t>(kMaxCapacity / interval)) return kMaxCapacity;
  return static_cast<std::int64_t>(burst) * interval;
}

std::chrono::seconds ceilSeconds(std::int64_t nanos) {
  if (nanos <= 0) return std::chrono::seconds(0);
  return std::chrono::seconds((nanos - 1) / kNanosPerSecond + 1);
}

// Shard selection uses a remix of the string hash so that it does not correlate with the bucket
// the shard's own map picks from the same hash.
std::size_t mix(std::size_t h) {
  std::uint64_t x = h;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return static_cast<std::size_t>(x);
}

}  // namespace

struct alignas(64) TokenBucketTable::Shard {
  struct Bucket {
    std::string key;
    std::int64_t fullAt;  // nanoseconds of the steady clock
  };
  using Lru = std::list<Bucket>;  // most recently used first

  mutable std::mutex mutex;
  Lru lru;
  // Views of the keys held by `lru`'s nodes, which never move.
  std::unordered_map<std::string_view, Lru::iterator> index;
  std::uint64_t evictions = 0;
};

TokenBucketTable::TokenBucketTable(BucketPolicy policy, std::size_t maxKeys, std::size_t shards)
    : burst_(policy.burst),
      interval_(intervalFor(policy.tokensPerSecond)),
      capacity_(capacityFor(policy.burst, interval_)),
      shardCount_(std::max<std::size_t>(1, shards)),
      shards_(new Shard[shardCount_]) {
  const std::size_t keys = std::max<std::size_t>(1, maxKeys);
  perShard_ = (keys + shardCount_ - 1) / shardCount_;
  for (std::size_t i = 0; i < shardCount_; ++i) {
    shards_[i].index.reserve(std::min<std::size_t>(perShard_, 1024));
  }
}

TokenBucketTable::~TokenBucketTable() = default;

TokenBucketTable::Shard& TokenBucketTable::shardFor(std::string_view key) const {
  return shards_[mix(std::hash<std::string_view>{}(key)) % shardCount_];
}

RateDecision TokenBucketTable::take(std::string_view key,
                                    std::chrono::steady_clock::time_point now) {
  const std::int64_t nowNs =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  Shard& shard = shardFor(key);
  std::int64_t fullAt = 0;
  bool allowed = false;
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    Shard::Bucket* bucket = nullptr;
    if (const auto found = shard.index.find(key); found != shard.index.end()) {
      shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
      bucket = &*found->second;
    } else if (shard.lru.size() < perShard_) {
      shard.lru.push_front(Shard::Bucket{std::string(key), nowNs});
      shard.index.emplace(shard.lru.front().key, shard.lru.begin());
      bucket = &shard.lru.front();
    } else {
      // Reuse the least recently used bucket's list node, map node and string capacity.
      const auto victim = std::prev(shard.lru.end());
      auto node = shard.index.extract(std::string_view(victim->key));
      victim->key.assign(key);
      victim->fullAt = nowNs;
      shard.lru.splice(shard.lru.begin(), shard.lru, victim);
      node.key() = victim->key;
      node.mapped() = victim;
      shard.index.insert(std::move(node));
      ++shard.evictions;
      bucket = &*victim;
    }
    // A bucket that was full at some earlier time is full now; time that runs backwards (another
    // thread's older `now`) does not refill it.
    const std::int64_t next = std::max(bucket->fullAt, nowNs) + interval_;
    if (next - nowNs <= capacity_) {
      bucket->fullAt = next;
      allowed = true;
    }
    fullAt = bucket->fullAt;
  }

  // How far the bucket is below full at `now`, in nanoseconds of refill.
  const std::int64_t deficit = std::max<std::int64_t>(0, fullAt - nowNs);
  RateDecision decision{};
  decision.allowed = allowed;
  decision.limit = burst_;
  decision.remaining =
      deficit >= capacity_ ? 0 : static_cast<std::uint64_t>((capacity_ - deficit) / interval_);
  decision.reset = ceilSeconds(deficit);
  if (allowed) {
    decision.retryAfter = std::chrono::seconds(0);
  } else {
    // The next token is there once the deficit has shrunk to capacity − one token.
    decision.retryAfter =
        std::max(std::chrono::seconds(1), ceilSeconds(deficit - (capacity_ - interval_)));
  }
  return decision;
}

std::size_t TokenBucketTable::size() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < shardCount_; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mutex);
    total += shards_[i].lru.size();
  }
  return total;
}

std::uint64_t TokenBucketTable::evictions() const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < shardCount_; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mutex);
    total += shards_[i].evictions;
  }
  return total;
}

}  // namespace meshgate::ratelimit
