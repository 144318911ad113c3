#include "dataplane/capture/run_process.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace meshgate::capture {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

ProcessResult shell(const std::string& script, std::string_view input = "",
                    milliseconds timeout = seconds(10)) {
  auto result = runProcess({"/bin/sh", "-c", script}, input, timeout);
  EXPECT_TRUE(result.ok()) << result.error();
  return result.ok() ? *result : ProcessResult{};
}

TEST(RunProcessTest, FeedsStdinAndCollectsStdoutAndStderr) {
  const ProcessResult result = shell("tr a-z A-Z; echo warning >&2", "rules\n");
  EXPECT_TRUE(result.succeeded()) << result.describe();
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_EQ(result.out, "RULES\n");
  EXPECT_EQ(result.err, "warning\n");
}

TEST(RunProcessTest, ReportsTheExitStatusAndStderrOfAFailure) {
  const ProcessResult result =
      shell("echo 'iptables-restore: line 3 failed' >&2; exit 2", "*nat\n");
  EXPECT_FALSE(result.succeeded());
  EXPECT_FALSE(result.timedOut);
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_EQ(result.describe(), "exit status 2");
  EXPECT_EQ(result.err, "iptables-restore: line 3 failed\n");
}

TEST(RunProcessTest, KillsTheWholeProcessGroupAtTheDeadline) {
  const auto start = std::chrono::steady_clock::now();
  // The shell's child holds the pipes open too: only killing the group ends the wait.
  const ProcessResult result = shell("sleep 30 & sleep 30; echo never", "", milliseconds(300));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(result.timedOut);
  EXPECT_FALSE(result.succeeded());
  EXPECT_EQ(result.signal, SIGKILL);
  EXPECT_EQ(result.describe(), "timed out and was killed");
  EXPECT_EQ(result.out, "");
  EXPECT_LT(elapsed, seconds(5));
}

TEST(RunProcessTest, AChildThatIgnoresItsInputDoesNotKillTheCaller) {
  // More than a pipe buffer, to a child that never reads: EPIPE, not SIGPIPE.
  const std::string big(1 << 20, 'x');
  const ProcessResult result = shell("exec 0<&-; echo done", big);
  EXPECT_TRUE(result.succeeded()) << result.describe();
  EXPECT_EQ(result.out, "done\n");
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

TEST(RunProcessTest, ASignalEndingTheChildIsReported) {
  const ProcessResult result = shell("kill -TERM $$");
  EXPECT_FALSE(result.succeeded());
  EXPECT_EQ(result.signal, SIGTERM);
  EXPECT_EQ(result.exitCode, -1);
}

TEST(RunProcessTest, AProgramThatCannotBeStartedIsAnError) {
  const auto result = runProcess({"/nonexistent/iptables-restore"}, "", seconds(1));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), "cannot run /nonexistent/iptables-restore: No such file or directory");
  EXPECT_FALSE(runProcess({}, "", seconds(1)).ok());
}

TEST(RunProcessTest, CapsTheOutputKept) {
  const ProcessResult result =
      shell("head -c " + std::to_string(kMaxCapturedOutput + 4096) + " /dev/zero");
  EXPECT_TRUE(result.succeeded()) << result.describe();
  EXPECT_EQ(result.out.size(), kMaxCapturedOutput);
}

}  // namespace
}  // namespace meshgate::capture
