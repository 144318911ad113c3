// Tests of TokenBucketTable: burst and refusal, refill over fake time, the reset and retry-after
// values, independent keys, LRU eviction at the key cap, and exact accounting when several
// threads take from one key.
#include "dataplane/ratelimit/token_bucket_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace meshgate::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = std::chrono::steady_clock::time_point;

// An arbitrary fixed start: tests pass time points, they never read the clock.
const TimePoint kStart = TimePoint(seconds(1000));

TEST(TokenBucketTableTest, AllowsTheBurstThenRefuses) {
  TokenBucketTable table({.tokensPerSecond = 1, .burst = 3}, 100);
  for (std::uint64_t i = 0; i < 3; ++i) {
    const RateDecision d = table.take("client", kStart);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 3u);
    EXPECT_EQ(d.remaining, 2 - i);
    EXPECT_EQ(d.reset, seconds(i + 1));
    EXPECT_EQ(d.retryAfter, seconds(0));
  }
  const RateDecision refused = table.take("client", kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, 3u);
  EXPECT_EQ(refused.remaining, 0u);
  EXPECT_EQ(refused.reset, seconds(3));
  EXPECT_EQ(refused.retryAfter, seconds(1));
}

TEST(TokenBucketTableTest, RefillsOneTokenPerIntervalAndNoMore) {
  TokenBucketTable table({.tokensPerSecond = 2, .burst = 2}, 100);
  EXPECT_TRUE(table.take("k", kStart).allowed);
  EXPECT_TRUE(table.take("k", kStart).allowed);
  EXPECT_FALSE(table.take("k", kStart + milliseconds(499)).allowed);
  EXPECT_TRUE(table.take("k", kStart + milliseconds(500)).allowed);
  EXPECT_FALSE(table.take("k", kStart + milliseconds(500)).allowed);
  // 1.5 s later the bucket has refilled to its burst, not to three tokens.
  EXPECT_TRUE(table.take("k", kStart + milliseconds(2000)).allowed);
  EXPECT_TRUE(table.take("k", kStart + milliseconds(2000)).allowed);
  EXPECT_FALSE(table.take("k", kStart + milliseconds(2000)).allowed);
}

TEST(TokenBucketTableTest, FractionalRefillAccumulatesAcrossCalls) {
  // One token every 10 s, asked for every second: the ninth refused call must not eat the
  // partial refill.
  TokenBucketTable table({.tokensPerSecond = 0.1, .burst = 1}, 100);
  EXPECT_TRUE(table.take("k", kStart).allowed);
  for (int s = 1; s < 10; ++s) {
    const RateDecision d = table.take("k", kStart + seconds(s));
    EXPECT_FALSE(d.allowed) << s;
    EXPECT_EQ(d.retryAfter, seconds(10 - s)) << s;
  }
  EXPECT_TRUE(table.take("k", kStart + seconds(10)).allowed);
}

TEST(TokenBucketTableTest, ResetAndRetryAfterRoundUpToWholeSeconds) {
  // One token per 4 s, burst 2.
  TokenBucketTable table({.tokensPerSecond = 0.25, .burst = 2}, 100);
  RateDecision d = table.take("k", kStart);
  EXPECT_EQ(d.reset, seconds(4));
  d = table.take("k", kStart);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_EQ(d.reset, seconds(8));

  d = table.take("k", kStart + milliseconds(2500));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_EQ(d.reset, seconds(6));       // 5.5 s to full, rounded up
  EXPECT_EQ(d.retryAfter, seconds(2));  // 1.5 s to the next token, rounded up

  d = table.take("k", kStart + milliseconds(3999));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retryAfter, seconds(1));  // 1 ms, rounded up to the minimum of 1 s

  d = table.take("k", kStart + seconds(4));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.retryAfter, seconds(0));
  EXPECT_EQ(d.reset, seconds(8));

  // Half refilled: one whole token left before taking, none after.
  d = table.take("k", kStart + seconds(8));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_EQ(d.reset, seconds(8));
}

TEST(TokenBucketTableTest, RefilledBucketStartsAgainFromItsBurst) {
  TokenBucketTable table({.tokensPerSecond = 10, .burst = 5}, 100);
  EXPECT_TRUE(table.take("k", kStart).allowed);
  // 100 ms later the one token is back: the bucket is full before this take.
  const RateDecision d = table.take("k", kStart + milliseconds(100));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 4u);
  EXPECT_EQ(d.reset, seconds(1));  // 100 ms, rounded up
}

TEST(TokenBucketTableTest, OlderTimePointDoesNotRefill) {
  TokenBucketTable table({.tokensPerSecond = 1, .burst = 1}, 100);
  EXPECT_TRUE(table.take("k", kStart + seconds(5)).allowed);
  // Another thread's `now`, read a little earlier, arrives later.
  const RateDecision d = table.take("k", kStart + seconds(4));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retryAfter, seconds(2));
  EXPECT_FALSE(table.take("k", kStart + milliseconds(5999)).allowed);
  EXPECT_TRUE(table.take("k", kStart + seconds(6)).allowed);
}

TEST(TokenBucketTableTest, KeysHaveIndependentBuckets) {
  TokenBucketTable table({.tokensPerSecond = 1, .burst = 1}, 100);
  EXPECT_TRUE(table.take("10.0.0.1", kStart).allowed);
  EXPECT_FALSE(table.take("10.0.0.1", kStart).allowed);
  EXPECT_TRUE(table.take("10.0.0.2", kStart).allowed);
  EXPECT_TRUE(table.take(std::string("10.0.0.3"), kStart).allowed);
  EXPECT_FALSE(table.take("10.0.0.2", kStart).allowed);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.evictions(), 0u);
}

TEST(TokenBucketTableTest, BurstZeroRefusesEverything) {
  TokenBucketTable table({.tokensPerSecond = 1, .burst = 0}, 100);
  const RateDecision d = table.take("k", kStart);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limit, 0u);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_GE(d.retryAfter, seconds(1));
  EXPECT_FALSE(table.take("k", kStart + seconds(3600)).allowed);
}

TEST(TokenBucketTableTest, EvictsTheLeastRecentlyUsedKeyAtTheCap) {
  TokenBucketTable table({.tokensPerSecond = 1, .burst = 1}, 2, /*shards=*/1);
  EXPECT_TRUE(table.take("a", kStart).allowed);
  EXPECT_TRUE(table.take("b", kStart).allowed);
  EXPECT_FALSE(table.take("a", kStart).allowed);  // "a" is now the most recently used
  EXPECT_TRUE(table.take("c", kStart).allowed);   // evicts "b"
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.evictions(), 1u);

  EXPECT_FALSE(table.take("a", kStart).allowed);  // "a" kept its empty bucket
  EXPECT_FALSE(table.take("c", kStart).allowed);  // so did "c"; "a" is now the oldest
  // "b" comes back with a full bucket, evicting "a".
  const RateDecision back = table.take("b", kStart);
  EXPECT_TRUE(back.allowed);
  EXPECT_EQ(back.remaining, 0u);
  EXPECT_EQ(table.evictions(), 2u);
  EXPECT_FALSE(table.take("c", kStart).allowed);  // "c" survived
  EXPECT_TRUE(table.take("a", kStart).allowed);   // "a" did not
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.evictions(), 3u);
}

TEST(TokenBucketTableTest, LongKeyReplacingShortOneIsFoundAgain) {
  TokenBucketTable table({.tokensPerSecond = 1, .burst = 2}, 1, /*shards=*/1);
  EXPECT_TRUE(table.take("x", kStart).allowed);
  const std::string longKey(300, 'y');
  EXPECT_EQ(table.take(longKey, kStart).remaining, 1u);
  EXPECT_EQ(table.take(longKey, kStart).remaining, 0u);
  EXPECT_FALSE(table.take(longKey, kStart).allowed);
  EXPECT_EQ(table.take("x", kStart).remaining, 1u);
  EXPECT_EQ(table.evictions(), 2u);
}

TEST(TokenBucketTableTest, CapIsSplitOverShardsRoundedUp) {
  // 10 keys over 4 shards: 3 a shard, at most 12 buckets.
  TokenBucketTable table({.tokensPerSecond = 1, .burst = 1}, 10, /*shards=*/4);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(table.take("client-" + std::to_string(i), kStart).allowed) << i;
  }
  EXPECT_LE(table.size(), 12u);
  EXPECT_GE(table.size(), 10u);  // 1000 hashed keys fill every shard
  EXPECT_EQ(table.evictions(), 1000u - table.size());
}

TEST(TokenBucketTableTest, ThreadsSharingOneKeyAreAccountedExactly) {
  // 100 tokens a second, burst 50, over 10 s of fake time: at most 50 + 100 × 10 = 1050 allowed.
  // Each thread walks the same 1 ms grid, so the table sees time points slightly out of order.
  // Every allowed request moves the bucket's full-at time forward by exactly one token, so the
  // requests allowed plus the whole tokens left at the end must be exactly 1050.
  constexpr int kThreads = 4;
  constexpr int kSteps = 10'000;
  TokenBucketTable table({.tokensPerSecond = 100, .burst = 50}, 16);
  std::atomic<std::uint64_t> allowed{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      std::uint64_t mine = 0;
      for (int step = 0; step <= kSteps; ++step) {
        for (int repeat = 0; repeat < 3; ++repeat) {
          if (table.take("shared", kStart + milliseconds(step)).allowed) ++mine;
        }
      }
      allowed.fetch_add(mine);
    });
  }
  for (auto& thread : threads)
    thread.join();

  EXPECT_LE(allowed.load(), 1050u);
  const RateDecision last = table.take("shared", kStart + seconds(10));
  const std::uint64_t leftAtEnd = last.allowed ? last.remaining + 1 : 0;
  EXPECT_EQ(allowed.load() + leftAtEnd, 1050u);
  // The key was hammered to the end: less than one token's worth is ever left over per thread.
  EXPECT_LE(leftAtEnd, static_cast<std::uint64_t>(kThreads));
  EXPECT_EQ(table.size(), 1u);
}

TEST(TokenBucketTableTest, ThreadsOnDistinctKeysDoNotInterfere) {
  constexpr int kThreads = 4;
  TokenBucketTable table({.tokensPerSecond = 10, .burst = 5}, 64);
  std::vector<std::uint64_t> allowed(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "client-" + std::to_string(t);
      for (int step = 0; step <= 1000; ++step) {  // 10 s in 10 ms steps
        if (table.take(key, kStart + milliseconds(10 * step)).allowed) ++allowed[t];
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(allowed[t], 5u + 100u) << t;
}

}  // namespace
}  // namespace meshgate::ratelimit
