// SplicePipe: the pipe one direction of a TCP relay (tcp_relay.cc) moves its bytes through with
// splice(2) — socket → pipe → socket — so they are never copied to user space. fill() is called
// only when it is empty, drain() until it is empty again; it counts the bytes it holds.
//
// A direction holds a pipe only while bytes are in flight: waiting for its source, it gives the
// empty pipe back to its thread's spares, and takes one again when bytes come. So idle
// connections hold no descriptors beyond their sockets, and the pipe pages the kernel charges to
// the user (pipe-user-pages-soft, shared by every process of the uid on the node) stay bounded by
// the bytes in flight. A pipe that still holds bytes is never a spare: it is closed.
//
// splice(2) cannot ask for MSG_NOSIGNAL: a splice into a connection the peer reset raises SIGPIPE,
// which the proxy ignores (dataplane/main.cc). Where SIGPIPE was not ignored when the pipe was
// made (a test), drain() blocks it on the thread around the call and takes the signal back, so
// EPIPE is only an error. Used on one thread; its spares are that thread's.
#pragma once

#include <cstddef>
#include <optional>

#include <boost/system/error_code.hpp>

namespace meshgate::dp {

class SplicePipe {
 public:
  // An empty pipe: one of this thread's spares, else a new one — non-blocking, close-on-exec, 1 MiB
  // when the kernel allows. nullopt with `ec` when pipe2 failed (EMFILE, ENFILE), or
  // no_buffer_space when the kernel gave a pipe too small to gain from (2 pages, to a user past
  // pipe-user-pages-soft): the caller copies instead.
  static std::optional<SplicePipe> acquire(boost::system::error_code& ec);
  // Keeps `pipe` as a spare of this thread when it is empty and the spares are not full; else it
  // is closed.
  static void release(SplicePipe pipe);
  // Closes this thread's spares.
  static void closeSpares();
  // Tests only: while set, acquire() fails as a pipe2 out of descriptors does (EMFILE), so relays
  // take the copy path. (Lowering RLIMIT_NOFILE instead also starves the sanitizers, which open
  // pipes of their own.)
  static void refuseForTesting(bool refuse);

  // Whether a fill() or drain() error says the kernel cannot splice that socket (EINVAL, ENOSYS).
  static bool unsupported(const boost::system::error_code& ec);

  SplicePipe(SplicePipe&& other) noexcept;
  SplicePipe& operator=(SplicePipe&& other) noexcept;
  SplicePipe(const SplicePipe&) = delete;
  SplicePipe& operator=(const SplicePipe&) = delete;
  ~SplicePipe();  // closes both ends

  // Moves what socket `from` has ready into the (empty) pipe, as much as it holds: the count, 0 at
  // its end of stream; would_block when it has nothing yet.
  size_t fill(int from, boost::system::error_code& ec);
  // Moves the pipe's bytes into socket `to`, as many as it takes now: the count; would_block when
  // it takes none.
  size_t drain(int to, boost::system::error_code& ec);
  // Reads the pipe's bytes, up to `size`, into `data`: the way out of a pipe whose destination
  // refuses splices.
  size_t read(void* data, size_t size, boost::system::error_code& ec);

  size_t buffered() const { return buffered_; }

 private:
  SplicePipe(int readEnd, int writeEnd, bool blockSigpipe);
  void close();

  int readEnd_ = -1;
  int writeEnd_ = -1;
  size_t buffered_ = 0;
  bool blockSigpipe_ = false;  // SIGPIPE was not ignored when the pipe was made
};

}  // namespace meshgate::dp
