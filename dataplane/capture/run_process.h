// runProcess: runs a program to completion with a deadline — its stdin fed from a string, its
// stdout and stderr collected — as meshgate-init runs iptables-restore and iptables-save. The
// child gets a process group of its own, killed as a whole (SIGKILL) at the deadline, so neither
// a hung program nor one of its children can stall the init container forever. Blocks the
// calling thread; SIGPIPE from a child that exits without reading its input is absorbed, not
// delivered to the process.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"

namespace meshgate::capture {

struct ProcessResult {
  // The exit status when the child exited, else -1.
  int exitCode = -1;
  // The signal that ended the child, else 0 (SIGKILL after a timeout).
  int signal = 0;
  bool timedOut = false;
  // What the child wrote, each cut at kMaxCapturedOutput bytes (the rest is read and dropped).
  std::string out;
  std::string err;

  bool succeeded() const { return !timedOut && signal == 0 && exitCode == 0; }
  // "exit status 2", "killed by signal 9 (Killed)", "timed out and was killed".
  std::string describe() const;
};

inline constexpr std::size_t kMaxCapturedOutput = 1 << 20;

// Runs argv[0] (a path; PATH is not searched) with argv as its arguments and the caller's
// environment. The error is for a child that could not be started (no such file, not
// executable); everything that happens once it runs is in the ProcessResult.
Expected<ProcessResult, std::string> runProcess(const std::vector<std::string>& argv,
                                                std::string_view input,
                                                std::chrono::milliseconds timeout);

}  // namespace meshgate::capture
