// TerminationSignals turns SIGTERM and SIGINT into a callback on a thread of its own, the way a
// daemon's main() wants them: the signals are blocked in the constructing thread (so in every
// thread created after it) and taken synchronously with sigwait, never by an async handler.
// Destroying it ends the waiting thread whether or not a signal came.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace meshgate {

class TerminationSignals {
 public:
  // Blocks SIGTERM and SIGINT in the calling thread. Construct before any other thread starts,
  // so that none of them can take the signal and die of it.
  TerminationSignals();
  // Joins the waiting thread; wakes it first when no signal came.
  ~TerminationSignals();

  TerminationSignals(const TerminationSignals&) = delete;
  TerminationSignals& operator=(const TerminationSignals&) = delete;

  // Starts the thread that waits for the first SIGTERM or SIGINT and calls onSignal(number) with
  // it, once. Later signals are taken and ignored (the process is already stopping).
  void start(std::function<void(int)> onSignal);

 private:
  std::function<void(int)> onSignal_;
  std::atomic<bool> closing_{false};
  std::thread waiter_;
};

}  // namespace meshgate
