// sigwait-based SIGTERM/SIGINT delivery; see base/termination_signals.h.
#include "base/termination_signals.h"

#include <pthread.h>

#include <csignal>

namespace meshgate {

namespace {

sigset_t terminationSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

TerminationSignals::TerminationSignals() {
  const sigset_t set = terminationSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

TerminationSignals::~TerminationSignals() {
  if (!waiter_.joinable()) return;
  closing_.store(true);
  // The waiter blocks in sigwait on these very signals: one sent to that thread alone wakes it,
  // and closing_ tells it not to report it.
  pthread_kill(waiter_.native_handle(), SIGTERM);
  waiter_.join();
}

void TerminationSignals::start(std::function<void(int)> onSignal) {
  onSignal_ = std::move(onSignal);
  waiter_ = std::thread([this] {
    const sigset_t set = terminationSet();
    bool reported = false;
    while (!closing_.load()) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      if (closing_.load()) break;
      if (!reported) {
        reported = true;
        onSignal_(signal);
      }
    }
  });
}

}  // namespace meshgate
