// Tests for WorkQueue: dedup, one worker per key, first reconciles ahead, shutdown and drain,
// metrics, and a multi-producer / multi-worker stress test of those invariants.
#include "kube/work_queue.h"

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kube/fake_clock.h"

namespace kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Polls pred until it holds or a real-time deadline passes; for conditions with no event to
// wait on.
template <class Predicate>
bool eventually(Predicate pred, std::chrono::milliseconds timeout = seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(WorkQueueTest, PendingDuplicatesCollapse) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.add("ns/a");
  queue.add("ns/b");
  queue.add("ns/a");
  EXPECT_EQ(queue.len(), 2u);
  EXPECT_EQ(queue.get(), "ns/a");
  EXPECT_EQ(queue.get(), "ns/b");
  EXPECT_EQ(queue.len(), 0u);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingComesBackOnceAfterDone) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.add("ns/a");
  ASSERT_EQ(queue.get(), "ns/a");
  queue.add("ns/a");
  queue.add("ns/a");
  EXPECT_EQ(queue.len(), 0u) << "must not be handed to a second worker";
  queue.done("ns/a");
  EXPECT_EQ(queue.len(), 1u);
  ASSERT_EQ(queue.get(), "ns/a");
  queue.done("ns/a");
  EXPECT_EQ(queue.len(), 0u);
}

TEST(WorkQueueTest, KeysNeverHandedOutGoAheadOfReReconciles) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.add("ns/a");
  ASSERT_EQ(queue.get(), "ns/a");
  queue.done("ns/a");
  // A neighbour's write re-enqueues a, then a bulk apply brings b and c.
  queue.add("ns/a");
  queue.add("ns/b");
  queue.add("ns/c");
  EXPECT_EQ(queue.len(), 3u);
  EXPECT_EQ(queue.get(), "ns/b");
  EXPECT_EQ(queue.get(), "ns/c");
  EXPECT_EQ(queue.get(), "ns/a");
  queue.done("ns/b");
  queue.done("ns/c");
  queue.done("ns/a");
  // Once every key has been handed out, order is plain FIFO again.
  queue.add("ns/c");
  queue.add("ns/a");
  EXPECT_EQ(queue.get(), "ns/c");
  EXPECT_EQ(queue.get(), "ns/a");
}

TEST(WorkQueueTest, DoneForKeyNotBeingProcessedIsIgnored) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.done("ns/never");
  queue.add("ns/a");
  queue.done("ns/a");  // pending, not processing: must not queue a second copy
  EXPECT_EQ(queue.len(), 1u);
}

TEST(WorkQueueTest, GetBlocksUntilKeyIsAdded) {
  FakeClock clock;
  WorkQueue queue(clock);
  std::optional<std::string> got;
  std::thread worker([&] { got = queue.get(); });
  queue.add("ns/a");
  worker.join();
  EXPECT_EQ(got, "ns/a");
}

TEST(WorkQueueTest, ShutDownWakesBlockedGetWithNullopt) {
  FakeClock clock;
  WorkQueue queue(clock);
  std::vector<std::thread> workers;
  std::atomic<int> stopped{0};
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&] {
      EXPECT_EQ(queue.get(), std::nullopt);
      ++stopped;
    });
  }
  queue.shutDown();
  for (auto& w : workers)
    w.join();
  EXPECT_EQ(stopped, 3);
  EXPECT_TRUE(queue.shuttingDown());
}

TEST(WorkQueueTest, KeysQueuedBeforeShutDownAreHandedOutAndLaterAddsIgnored) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.add("ns/a");
  queue.shutDown();
  queue.add("ns/b");
  EXPECT_EQ(queue.get(), "ns/a");
  EXPECT_EQ(queue.get(), std::nullopt);
}

TEST(WorkQueueTest, ShutDownWithDrainWaitsForInFlightKeys) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.add("ns/a");
  ASSERT_EQ(queue.get(), "ns/a");
  std::atomic<bool> drained{false};
  std::thread stopper([&] {
    queue.shutDownWithDrain();
    drained = true;
  });
  // shuttingDown() turns true in the same critical section in which the drain starts waiting.
  ASSERT_TRUE(eventually([&] { return queue.shuttingDown(); }));
  EXPECT_FALSE(drained);
  queue.add("ns/b");  // refused: the queue is shutting down
  queue.done("ns/a");
  stopper.join();
  EXPECT_TRUE(drained);
  EXPECT_EQ(queue.get(), std::nullopt);
}

TEST(WorkQueueTest, KeyReaddedBeforeDrainIsStillDelivered) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.add("ns/a");
  ASSERT_EQ(queue.get(), "ns/a");
  queue.add("ns/a");
  std::thread stopper([&] { queue.shutDownWithDrain(); });
  ASSERT_TRUE(eventually([&] { return queue.shuttingDown(); }));
  queue.done("ns/a");
  stopper.join();
  EXPECT_EQ(queue.get(), "ns/a");
  queue.done("ns/a");
  EXPECT_EQ(queue.get(), std::nullopt);
}

TEST(WorkQueueTest, ShutDownWithDrainReturnsAtOnceWhenIdle) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.shutDownWithDrain();
  EXPECT_TRUE(queue.shuttingDown());
}

TEST(WorkQueueTest, MetricsRecordDepthAddsAndDurations) {
  FakeClock clock;
  WorkQueue queue(clock, "meshservices");
  queue.add("ns/a");
  queue.add("ns/a");
  queue.add("ns/b");
  auto snap = queue.metrics()->snapshot();
  EXPECT_EQ(snap.name, "meshservices");
  EXPECT_EQ(snap.depth, 2);
  EXPECT_EQ(snap.addsTotal, 2u);

  clock.advance(seconds(2));
  ASSERT_EQ(queue.get(), "ns/a");
  clock.advance(milliseconds(50));
  queue.done("ns/a");
  ASSERT_EQ(queue.get(), "ns/b");
  clock.advance(seconds(3));

  snap = queue.metrics()->snapshot();
  EXPECT_EQ(snap.depth, 0);
  EXPECT_EQ(snap.queueDurationSeconds.count, 2u);
  EXPECT_DOUBLE_EQ(snap.queueDurationSeconds.sumSeconds, 2.0 + 2.05);
  // Both waited > 1 s and <= 10 s: only the last (le=10) cumulative bucket holds them.
  ASSERT_EQ(snap.queueDurationSeconds.upperBoundsSeconds.back(), 10.0);
  EXPECT_EQ(snap.queueDurationSeconds.cumulativeCounts.back(), 2u);
  EXPECT_EQ(snap.queueDurationSeconds.cumulativeCounts[8], 0u);  // le=1
  EXPECT_EQ(snap.workDurationSeconds.count, 1u);
  EXPECT_DOUBLE_EQ(snap.workDurationSeconds.sumSeconds, 0.05);
  EXPECT_EQ(snap.workDurationSeconds.cumulativeCounts[7], 1u);  // le=0.1
  EXPECT_EQ(snap.workDurationSeconds.cumulativeCounts[6], 0u);  // le=0.01
  EXPECT_DOUBLE_EQ(snap.longestRunningProcessorSeconds, 3.0);
  EXPECT_DOUBLE_EQ(snap.unfinishedWorkSeconds, 3.0);
  EXPECT_EQ(snap.retriesTotal, 0u);
}

// Producers add keys from a small set while workers process them. Checks the two invariants
// controllers rely on: no key is ever held by two workers at once, and every add is followed
// by a processing of that key that starts after it.
TEST(WorkQueueTest, StressNoKeyProcessedConcurrentlyAndEveryAddProcessed) {
  constexpr int kProducers = 4;
  constexpr int kWorkers = 4;
  constexpr int kKeys = 40;
  constexpr int kAddsPerProducer = 3000;

  SystemClock clock;
  WorkQueue queue(clock, "stress");

  std::mutex trackMutex;
  std::set<std::string> inFlight;           // guarded by trackMutex
  std::map<std::string, int> addedVersion;  // guarded by trackMutex: bumped before each add
  std::map<std::string, int> seenVersion;   // guarded by trackMutex: version when get() returned
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue.get()) {
        {
          std::lock_guard<std::mutex> guard(trackMutex);
          if (!inFlight.insert(*key).second) ++overlaps;
          seenVersion[*key] = std::max(seenVersion[*key], addedVersion[*key]);
        }
        // Give another worker the chance to (wrongly) pick up the same key.
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> guard(trackMutex);
          inFlight.erase(*key);
        }
        ++processed;
        queue.done(*key);
      }
    });
  }

  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kAddsPerProducer; ++i) {
        const std::string key = "ns/key-" + std::to_string((i * 7 + p) % kKeys);
        {
          std::lock_guard<std::mutex> guard(trackMutex);
          ++addedVersion[key];
        }
        queue.add(key);
      }
    });
  }
  for (auto& p : producers)
    p.join();
  // Keys queued before shutdown are still handed out, and a key re-added during processing is
  // re-queued by done(); so once every worker has seen nullopt, all work has been done.
  queue.shutDown();
  for (auto& w : workers)
    w.join();

  EXPECT_EQ(overlaps, 0);
  EXPECT_GT(processed, 0);
  ASSERT_EQ(addedVersion.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, version] : addedVersion) {
    EXPECT_EQ(seenVersion[key], version) << key << " was not processed after its last add";
  }
  const auto snap = queue.metrics()->snapshot();
  EXPECT_EQ(snap.depth, 0);
  EXPECT_EQ(snap.workDurationSeconds.count, static_cast<std::uint64_t>(processed.load()));
}

}  // namespace
}  // namespace kube
