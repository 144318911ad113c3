// TcpClient: a test's client connection to a port on loopback, for the TCP relay tests (the
// gateway's TCP listeners, the sidecar's mesh TCP ports). Every call is bounded by a deadline, so
// a proxy that stalls fails the test instead of hanging it. Plain POSIX sockets, no event loop.
// Header-only test code.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace meshgate::dp::testing {

class TcpClient {
 public:
  explicit TcpClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address)) {
      closeSocket();
      return;
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~TcpClient() { closeSocket(); }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool send(std::string_view bytes) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!bytes.empty()) {
      if (!waitFor(POLLOUT, deadline)) return false;
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) bytes.remove_prefix(static_cast<size_t>(n));
      if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    }
    return true;
  }
  void shutdownSend() { ::shutdown(fd_, SHUT_WR); }

  // Up to `count` bytes: fewer when the connection ends or `timeout` passes first.
  std::string read(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string out;
    while (out.size() < count && !closed_ && waitFor(POLLIN, deadline)) {
      char chunk[64 * 1024];
      const size_t want = std::min(sizeof chunk, count - out.size());
      const ssize_t n = ::recv(fd_, chunk, want, MSG_DONTWAIT);
      if (n > 0) out.append(chunk, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) closed_ = true;
    }
    return out;
  }
  // Whether the peer closed within `timeout`; bytes still arriving before the close are dropped
  // into `rest`.
  bool awaitClose(std::chrono::milliseconds timeout, std::string* rest = nullptr) {
    std::string bytes = read(SIZE_MAX, timeout);
    if (rest) *rest = std::move(bytes);
    return closed_;
  }

 private:
  bool waitFor(short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0 || fd_ < 0) return false;
      pollfd p{.fd = fd_, .events = events, .revents = 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left));
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) return false;
    }
  }
  void closeSocket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  bool closed_ = false;
};

}  // namespace meshgate::dp::testing
