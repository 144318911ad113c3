// TokenBucketTable: local rate limiting — one token bucket per key (a client IP, a header value,
// an API-key name, a JWT claim) for one rule's rate limit, shared by all worker threads of the
// proxy. The rate-limit filter calls take() once per request from any worker thread.
//
// Thread-safe: keys are hashed onto shards; each shard has a mutex and its own LRU list of
// buckets. At most maxKeys buckets are held in total (split evenly over the shards, rounded up).
// When a shard is full, its least recently used bucket is evicted: a key that comes back after
// eviction starts again with a full bucket, so a cap too small for the number of active clients
// lets each of them burst again. Size maxKeys for the clients expected within one refill time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace meshgate::ratelimit {

struct BucketPolicy {
  double tokensPerSecond;  // refill rate (requests per unit / seconds per unit); <= 0: no refill
  std::uint64_t burst;     // capacity; a new bucket starts full (0 refuses every request)
};

struct RateDecision {
  bool allowed;
  std::uint64_t limit;              // burst
  std::uint64_t remaining;          // whole tokens left after this request
  std::chrono::seconds reset;       // until the bucket is full again, rounded up
  std::chrono::seconds retryAfter;  // when refused: until one token is available, rounded up,
                                    // at least 1; 0 when allowed
};

class TokenBucketTable {
 public:
  // `maxKeys` and `shards` are raised to at least 1; each shard holds ceil(maxKeys / shards).
  TokenBucketTable(BucketPolicy policy, std::size_t maxKeys, std::size_t shards = 16);
  ~TokenBucketTable();

  TokenBucketTable(const TokenBucketTable&) = delete;
  TokenBucketTable& operator=(const TokenBucketTable&) = delete;

  // Takes one token from `key`'s bucket at `now`. Time points from different threads may arrive
  // slightly out of order; a bucket never refills backwards, and in total no more than
  // burst + rate × (latest now − first now) requests of a key are allowed while its bucket is
  // held (an evicted key starts over). Allocates only when the key has no bucket yet, and once
  // its shard is full only when the key is longer than the evicted one's string capacity.
  RateDecision take(std::string_view key, std::chrono::steady_clock::time_point now);

  std::size_t size() const;         // buckets held now
  std::uint64_t evictions() const;  // buckets evicted so far

 private:
  struct Shard;

  Shard& shardFor(std::string_view key) const;

  // The bucket is kept in its GCRA form: the time at which it will be full again, in integer
  // nanoseconds. One token is `interval_` nanoseconds of that time (1 / rate, rounded up, so the
  // rate is never exceeded), the whole bucket `capacity_` = burst × interval_. Integer time keeps
  // the accounting exact under any number of threads and calls: no fractional token is lost or
  // created by rounding.
  std::uint64_t burst_;
  std::int64_t interval_;
  std::int64_t capacity_;
  std::size_t perShard_;
  std::size_t shardCount_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace meshgate::ratelimit
