// eventually(): waits, with a deadline, for a condition that another thread makes true (a reload
// on a watch thread, a connection a server thread closes, a snapshot a publisher builds). For
// unit tests, which must await conditions rather than sleep.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace meshgate::testing {

// Re-checks `condition` every 2 ms until it holds (true) or `deadline` passes (false).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return condition();
}

}  // namespace meshgate::testing
