// The child process runner of meshgate-init; see dataplane/capture/run_process.h.
#include "dataplane/capture/run_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

extern char** environ;

namespace meshgate::capture {
namespace {

using Clock = std::chrono::steady_clock;

// How often a child that closed its pipes but has not exited yet is polled for its status.
constexpr std::chrono::milliseconds kReapInterval{10};

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { close(); }

  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

// A close-on-exec descriptor numbered 3 or more: with 0, 1 or 2 closed in this process, pipe2()
// could hand one out, and the child's dup2() onto the same number would then keep its
// close-on-exec flag and vanish at exec.
Fd aboveStdio(int fd) {
  if (fd > 2) return Fd(fd);
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return Fd(moved);
}

Expected<Pipe, std::string> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  Pipe pipe{aboveStdio(fds[0]), aboveStdio(fds[1])};
  if (!pipe.read.open() || !pipe.write.open()) return std::string("pipe: ") + std::strerror(errno);
  return pipe;
}

void setNonBlocking(const Fd& fd) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
}

// SIGPIPE blocked on this thread while it writes to the child's stdin: a child that exits without
// reading makes write() fail with EPIPE instead of killing this process. A SIGPIPE raised
// meanwhile is consumed before the old mask comes back, unless one was pending already.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipeOnly_);
    sigaddset(&pipeOnly_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    wasPending_ = sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipeOnly_, &old_);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;
  ~SigpipeBlock() {
    if (!wasPending_) {
      const timespec zero{};
      while (::sigtimedwait(&pipeOnly_, nullptr, &zero) == SIGPIPE) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipeOnly_;
  sigset_t old_;
  bool wasPending_ = false;
};

class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }

  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

// Reads what `fd` has now into `sink` (up to kMaxCapturedOutput); closes it at end of file.
void drain(Fd& fd, std::string& sink) {
  char buffer[16384];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      const std::size_t room = kMaxCapturedOutput - std::min(sink.size(), kMaxCapturedOutput);
      sink.append(buffer, std::min(static_cast<std::size_t>(n), room));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    fd.close();  // end of file, or an error that ends the stream all the same
    return;
  }
}

// Writes what the pipe takes of `input` from `offset`; closes `fd` once everything is written or
// the child closed its end.
void feed(Fd& fd, std::string_view input, std::size_t& offset) {
  while (offset < input.size()) {
    const ssize_t n = ::write(fd.get(), input.data() + offset, input.size() - offset);
    if (n > 0) {
      offset += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    break;  // EPIPE: the child does not read its input
  }
  fd.close();
}

void setStatus(ProcessResult& result, int status) {
  if (WIFEXITED(status)) result.exitCode = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
}

}  // namespace

std::string ProcessResult::describe() const {
  if (timedOut) return "timed out and was killed";
  if (signal != 0)
    return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exit status " + std::to_string(exitCode);
}

Expected<ProcessResult, std::string> runProcess(const std::vector<std::string>& argv,
                                                std::string_view input,
                                                std::chrono::milliseconds timeout) {
  if (argv.empty() || argv[0].empty()) return std::string("no program to run");
  auto in = makePipe();
  if (!in) return in.error();
  auto out = makePipe();
  if (!out) return out.error();
  auto err = makePipe();
  if (!err) return err.error();

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions_, in->read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions_, out->write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions_, err->write.get(), STDERR_FILENO);
  // A process group of its own, killed whole at the deadline; no blocked signals, and SIGPIPE at
  // its default whatever this process does with it.
  sigset_t none;
  sigemptyset(&none);
  sigset_t pipeOnly;
  sigemptyset(&pipeOnly);
  sigaddset(&pipeOnly, SIGPIPE);
  posix_spawnattr_setpgroup(&setup.attr_, 0);
  posix_spawnattr_setsigmask(&setup.attr_, &none);
  posix_spawnattr_setsigdefault(&setup.attr_, &pipeOnly);
  posix_spawnattr_setflags(&setup.attr_,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  SigpipeBlock sigpipe;
  pid_t pid = 0;
  // glibc reports a failed exec here, not as an exit status of 127.
  const int spawned =
      ::posix_spawn(&pid, argv[0].c_str(), &setup.actions_, &setup.attr_, args.data(), environ);
  if (spawned != 0) return "cannot run " + argv[0] + ": " + std::strerror(spawned);
  in->read.close();
  out->write.close();
  err->write.close();

  Fd stdinFd = std::move(in->write);
  Fd stdoutFd = std::move(out->read);
  Fd stderrFd = std::move(err->read);
  setNonBlocking(stdinFd);
  setNonBlocking(stdoutFd);
  setNonBlocking(stderrFd);
  std::size_t written = 0;
  if (input.empty()) stdinFd.close();

  ProcessResult result;
  int pollError = 0;
  bool exited = false;
  int status = 0;
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (!exited) {
      const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
      exited = reaped == pid || (reaped < 0 && errno == ECHILD);
    }
    const bool pipesOpen = stdinFd.open() || stdoutFd.open() || stderrFd.open();
    if (exited && !pipesOpen) break;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      result.timedOut = true;
      break;
    }
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    // Pipes closed but the child still running: poll for its exit.
    if (!pipesOpen) wait = std::min(wait, kReapInterval);

    pollfd fds[3];
    nfds_t count = 0;
    if (stdinFd.open()) fds[count++] = {stdinFd.get(), POLLOUT, 0};
    if (stdoutFd.open()) fds[count++] = {stdoutFd.get(), POLLIN, 0};
    if (stderrFd.open()) fds[count++] = {stderrFd.get(), POLLIN, 0};
    const int ready = ::poll(fds, count, static_cast<int>(wait.count()));
    if (ready < 0 && errno != EINTR) {
      pollError = errno;
      break;
    }
    if (ready <= 0) continue;
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == stdinFd.get()) {
        feed(stdinFd, input, written);
      } else if (fds[i].fd == stdoutFd.get()) {
        drain(stdoutFd, result.out);
      } else if (fds[i].fd == stderrFd.get()) {
        drain(stderrFd, result.err);
      }
    }
  }

  if (result.timedOut || pollError != 0) {
    // The whole group: a shell's children as well as the shell.
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  if (!exited) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (pollError != 0) return std::string("poll: ") + std::strerror(pollError);
  setStatus(result, status);
  return result;
}

}  // namespace meshgate::capture
