// CoalescingBatcher: marks within a window arrive in one batch; later marks in the next one.
#include "base/coalescing_batcher.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/testing/eventually.h"

namespace meshgate {
namespace {

using namespace std::chrono_literals;

struct Recorder {
  std::mutex mutex;
  std::vector<std::set<std::string>> batches;
  std::size_t count() {
    std::lock_guard lock(mutex);
    return batches.size();
  }
};

TEST(CoalescingBatcherTest, ManyMarksOfFewKeysBecomeOneBatch) {
  Recorder recorder;
  CoalescingBatcher batcher(200ms, [&](const std::set<std::string>& keys) {
    std::lock_guard lock(recorder.mutex);
    recorder.batches.push_back(keys);
  });
  for (int i = 0; i < 1000; ++i)
    batcher.mark(i % 2 ? "meshgate" : "internal");
  ASSERT_TRUE(testing::eventually([&] { return recorder.count() >= 1; }));
  batcher.stop();
  std::lock_guard lock(recorder.mutex);
  ASSERT_EQ(recorder.batches.size(), 1u);
  EXPECT_EQ(recorder.batches[0], (std::set<std::string>{"internal", "meshgate"}));
}

TEST(CoalescingBatcherTest, AMarkAfterAFlushStartsTheNextBatch) {
  Recorder recorder;
  CoalescingBatcher batcher(10ms, [&](const std::set<std::string>& keys) {
    std::lock_guard lock(recorder.mutex);
    recorder.batches.push_back(keys);
  });
  batcher.mark("a");
  ASSERT_TRUE(testing::eventually([&] { return recorder.count() == 1; }));
  batcher.mark("b");
  ASSERT_TRUE(testing::eventually([&] { return recorder.count() == 2; }));
  std::lock_guard lock(recorder.mutex);
  EXPECT_EQ(recorder.batches[1], (std::set<std::string>{"b"}));
}

TEST(CoalescingBatcherTest, StopDropsWhatIsNotFlushedYet) {
  Recorder recorder;
  auto batcher = std::make_unique<CoalescingBatcher>(1h, [&](const std::set<std::string>& keys) {
    std::lock_guard lock(recorder.mutex);
    recorder.batches.push_back(keys);
  });
  batcher->mark("a");
  batcher.reset();  // must not wait out the hour
  EXPECT_EQ(recorder.count(), 0u);
}

}  // namespace
}  // namespace meshgate
