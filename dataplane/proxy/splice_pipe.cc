// The splice pipe: pipe2 and its size, the thread's spares, splices in and out, and SIGPIPE kept
// off a splice into a reset connection. See splice_pipe.h.
#include "dataplane/proxy/splice_pipe.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <utility>
#include <vector>

#include "base/assert.h"

namespace meshgate::dp {

namespace {

constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

// 1 MiB (the default pipe-max-size) rather than the default 64 KiB: a splice then takes what a
// busy socket holds in one call, not in 16. Measured with bench/proxy/tcp.sh's load, 1 GiB over 8
// connections: 0.25 CPU s/GiB against 0.65 with 64 KiB pipes and 0.53 with 256 KiB ones.
constexpr size_t kPipeSize = 1 << 20;
// A pipe below this (the kernel's 2 pages for a user past pipe-user-pages-soft) would splice in
// steps smaller than the copy's buffer: not worth it.
constexpr size_t kSmallestUseful = 64 * 1024;
// Spares kept per thread: enough for the directions of a worker's busy connections to hand pipes
// round without a pipe2 each time, few enough to charge the user little for pipes not in use.
constexpr size_t kSparesPerThread = 8;

thread_local std::vector<SplicePipe> spares;

// SplicePipe::refuseForTesting.
std::atomic<bool> refusedForTesting{false};

boost::system::error_code errorOf(int error) {
  return {error, boost::system::system_category()};
}

// SIGPIPE blocked on this thread while it lives. takeBack() removes the SIGPIPE a splice raised
// (it returned EPIPE) before the signal is unblocked and delivered. A thread that blocked SIGPIPE
// itself keeps its pending signal: that is its owner's to handle.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipeOnly_);
    sigaddset(&pipeOnly_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipeOnly_, &previous_);
  }
  ~SigpipeBlock() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

  void takeBack() {
    if (sigismember(&previous_, SIGPIPE) == 1) return;
    const timespec zero{};
    while (sigtimedwait(&pipeOnly_, nullptr, &zero) == SIGPIPE) {
    }
  }

 private:
  sigset_t pipeOnly_;
  sigset_t previous_;
};

bool sigpipeIgnored() {
  struct sigaction current {};
  return sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

}  // namespace

void SplicePipe::refuseForTesting(bool refuse) {
  refusedForTesting.store(refuse, std::memory_order_relaxed);
}

std::optional<SplicePipe> SplicePipe::acquire(boost::system::error_code& ec) {
  ec = {};
  if (refusedForTesting.load(std::memory_order_relaxed)) {
    ec = errorOf(EMFILE);
    return std::nullopt;
  }
  if (!spares.empty()) {
    std::optional<SplicePipe> spare(std::move(spares.back()));
    spares.pop_back();
    return spare;
  }
  int ends[2];
  if (::pipe2(ends, O_NONBLOCK | O_CLOEXEC) != 0) {
    ec = errorOf(errno);
    return std::nullopt;
  }
  // Beyond pipe-max-size, or for an unprivileged user past pipe-user-pages-soft, the kernel
  // refuses the larger size: the pipe keeps the one it was made with.
  int capacity = ::fcntl(ends[1], F_SETPIPE_SZ, static_cast<int>(kPipeSize));
  if (capacity <= 0) capacity = ::fcntl(ends[1], F_GETPIPE_SZ);
  SplicePipe pipe(ends[0], ends[1], !sigpipeIgnored());
  if (capacity < static_cast<int>(kSmallestUseful)) {
    ec = make_error_code(boost::system::errc::no_buffer_space);
    return std::nullopt;
  }
  return pipe;
}

void SplicePipe::release(SplicePipe pipe) {
  if (pipe.readEnd_ >= 0 && pipe.buffered_ == 0 && spares.size() < kSparesPerThread)
    spares.push_back(std::move(pipe));
}

void SplicePipe::closeSpares() {
  spares.clear();
}

SplicePipe::SplicePipe(int readEnd, int writeEnd, bool blockSigpipe)
    : readEnd_(readEnd), writeEnd_(writeEnd), blockSigpipe_(blockSigpipe) {}

SplicePipe::SplicePipe(SplicePipe&& other) noexcept
    : readEnd_(std::exchange(other.readEnd_, -1)),
      writeEnd_(std::exchange(other.writeEnd_, -1)),
      buffered_(std::exchange(other.buffered_, 0)),
      blockSigpipe_(other.blockSigpipe_) {}

SplicePipe& SplicePipe::operator=(SplicePipe&& other) noexcept {
  if (this != &other) {
    close();
    readEnd_ = std::exchange(other.readEnd_, -1);
    writeEnd_ = std::exchange(other.writeEnd_, -1);
    buffered_ = std::exchange(other.buffered_, 0);
    blockSigpipe_ = other.blockSigpipe_;
  }
  return *this;
}

SplicePipe::~SplicePipe() {
  close();
}

void SplicePipe::close() {
  if (readEnd_ >= 0) ::close(readEnd_);
  if (writeEnd_ >= 0) ::close(writeEnd_);
  readEnd_ = writeEnd_ = -1;
  buffered_ = 0;
}

bool SplicePipe::unsupported(const boost::system::error_code& ec) {
  return ec == boost::system::errc::invalid_argument ||
         ec == boost::system::errc::function_not_supported;
}

size_t SplicePipe::fill(int from, boost::system::error_code& ec) {
  // A splice of 0 bytes would return 0, which reads as the end of the stream.
  MESHGATE_ASSERT(buffered_ == 0, "fill() only an empty pipe");
  for (;;) {
    // As much as a 1 MiB pipe holds; a smaller one (its size refused) stops the splice when full.
    const ssize_t n = ::splice(from, nullptr, writeEnd_, nullptr, kPipeSize, kSpliceFlags);
    if (n >= 0) {
      ec = {};
      buffered_ += static_cast<size_t>(n);
      return static_cast<size_t>(n);
    }
    if (errno != EINTR) {
      ec = errorOf(errno);
      return 0;
    }
  }
}

size_t SplicePipe::drain(int to, boost::system::error_code& ec) {
  std::optional<SigpipeBlock> block;
  if (blockSigpipe_) block.emplace();
  for (;;) {
    const ssize_t n = ::splice(readEnd_, nullptr, to, nullptr, buffered_, kSpliceFlags);
    if (n >= 0) {
      ec = {};
      buffered_ -= static_cast<size_t>(n);
      return static_cast<size_t>(n);
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EPIPE && block) block->takeBack();
    ec = errorOf(error);
    return 0;
  }
}

size_t SplicePipe::read(void* data, size_t size, boost::system::error_code& ec) {
  for (;;) {
    const ssize_t n = ::read(readEnd_, data, std::min(size, buffered_));
    if (n >= 0) {
      ec = {};
      buffered_ -= static_cast<size_t>(n);
      return static_cast<size_t>(n);
    }
    if (errno != EINTR) {
      ec = errorOf(errno);
      return 0;
    }
  }
}

}  // namespace meshgate::dp
