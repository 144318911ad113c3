// TerminationSignals: a SIGTERM sent to the whole process reaches the callback once, on the
// waiting thread, and never kills a thread started afterwards; destruction without a signal
// returns.
#include "base/termination_signals.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <mutex>

namespace meshgate {
namespace {

TEST(TerminationSignalsTest, AProcessSignalReachesTheCallbackOnce) {
  TerminationSignals signals;
  std::mutex mutex;
  std::condition_variable cv;
  int calls = 0;
  int number = 0;
  signals.start([&](int signal) {
    std::lock_guard lock(mutex);
    calls++;
    number = signal;
    cv.notify_all();
  });
  // A thread started after construction inherits the blocked mask: the signal cannot end it.
  std::thread bystander([] {});
  bystander.join();
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  std::unique_lock lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return calls > 0; }));
  EXPECT_EQ(number, SIGTERM);
}

TEST(TerminationSignalsTest, DestroyingItWithoutASignalEndsTheWaiter) {
  bool called = false;
  {
    TerminationSignals signals;
    signals.start([&](int) { called = true; });
  }
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace meshgate
